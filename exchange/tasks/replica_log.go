package tasks

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/raft"
)

// raftLog is a replicated queue's taskLog: the records of the queue's
// mailbox runs go to its Raft group. A writer goroutine takes everything
// appended since its last turn as one entry (group commit) and hands it to
// raft.Apply without waiting (Raft batches the entries waiting for it, up
// to MaxAppendEntries, into one write and one AppendEntries); a second
// goroutine waits for the commits in order and reports them. A failed
// entry (the lead lost: a minority) fails its commit and every later one.
type raftLog struct {
	r      *Replica
	onSync func(upto uint64, err error)

	mu       sync.Mutex
	wake     *sync.Cond
	pending  []byte
	appended uint64
	closing  bool

	futures chan appliedEntry
	lost    chan struct{} // closed when this member stops leading
	stopped chan struct{}
	syncs   atomic.Uint64
	obs     *raft.Observer
}

type appliedEntry struct {
	f    raft.ApplyFuture
	upto uint64
}

func openRaftLog(r *Replica, onSync func(uint64, error)) *raftLog {
	l := &raftLog{r: r, onSync: onSync, futures: make(chan appliedEntry, 256), lost: make(chan struct{}), stopped: make(chan struct{})}
	l.wake = sync.NewCond(&l.mu)
	obs := make(chan raft.Observation, 1)
	l.obs = raft.NewObserver(obs, false, func(o *raft.Observation) bool {
		_, ok := o.Data.(raft.LeaderObservation)
		return ok
	})
	r.raft.RegisterObserver(l.obs)
	watchDone := make(chan struct{})
	go func() { // closes lost when the lead goes elsewhere
		defer close(watchDone)
		for {
			select {
			case <-obs:
				if r.raft.State() != raft.Leader {
					close(l.lost)
					l.onSync(0, ErrNotLeader) // stops the queue: an idle one too
					return
				}
			case <-l.stopped:
				return
			}
		}
	}()
	done := make(chan struct{})
	go l.run()
	go func() {
		l.wait()
		close(done)
	}()
	go func() {
		<-done
		r.raft.DeregisterObserver(l.obs)
		close(l.stopped)
		<-watchDone
	}()
	return l
}

func (l *raftLog) append(data []byte) uint64 {
	l.mu.Lock()
	l.pending = append(l.pending, data...)
	l.appended++
	seq := l.appended
	l.mu.Unlock()
	l.wake.Signal()
	return seq
}

// rotate writes nothing: Raft compacts its own log with the replica's
// snapshots.
func (l *raftLog) rotate([]byte) uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.appended
}

func (l *raftLog) segmentSize() int64 { return 0 }
func (l *raftLog) syncCount() uint64  { return l.syncs.Load() }

func (l *raftLog) close() {
	l.mu.Lock()
	l.closing = true
	l.mu.Unlock()
	l.wake.Signal()
	<-l.stopped
}

func (l *raftLog) run() {
	defer close(l.futures)
	for {
		l.mu.Lock()
		for len(l.pending) == 0 && !l.closing {
			l.wake.Wait()
		}
		if len(l.pending) == 0 {
			l.mu.Unlock()
			return
		}
		data, upto := l.pending, l.appended
		l.pending = nil
		l.mu.Unlock()
		l.futures <- appliedEntry{f: l.r.raft.Apply(data, 0), upto: upto}
	}
}

func (l *raftLog) wait() {
	var failed error
	for e := range l.futures {
		if failed == nil {
			if err := e.f.Error(); err != nil {
				failed = fmt.Errorf("%w: %w", ErrNotLeader, err)
			} else if r, ok := e.f.Response().(error); ok && r != nil {
				failed = fmt.Errorf("%w: %w", ErrStore, r)
			}
		}
		if failed == nil {
			select {
			case <-l.lost:
				failed = ErrNotLeader
			default:
			}
		}
		if failed != nil {
			l.onSync(e.upto, failed)
			continue
		}
		l.syncs.Add(1)
		l.onSync(e.upto, nil)
	}
}
