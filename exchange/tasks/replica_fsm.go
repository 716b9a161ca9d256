package tasks

import (
	"io"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"

	"github.com/switchboard-go/switchboard/internal/taskspb"
)

// replicaFSM is a replica's copy of its queue's state: it applies the
// same records as a segment log's replay (tasks stored, done, keys), in
// the order Raft committed them, on every member.
type replicaFSM struct {
	keyWindow time.Duration
	bad       atomic.Uint64 // entries with a torn frame or an undecodable record

	mu sync.Mutex
	st logState
}

func newReplicaFSM(keyWindow time.Duration) *replicaFSM {
	return &replicaFSM{keyWindow: keyWindow, st: emptyState()}
}

func emptyState() logState {
	return logState{live: map[uint64]*taskspb.TaskStored{}, keys: map[string]*taskspb.TaskKeySeen{}}
}

// applyFrames applies every record of data, a sequence of frames, to st.
func applyFrames(st *logState, data []byte) error {
	for len(data) > 0 {
		body, rest, err := nextFrame(data)
		if err != nil {
			return err
		}
		if err := st.apply(body); err != nil {
			return err
		}
		data = rest
	}
	return nil
}

// Apply applies one committed entry: the records of one or more of the
// queue's mailbox runs.
func (f *replicaFSM) Apply(l *raft.Log) any {
	if l.Type != raft.LogCommand {
		return nil
	}
	f.mu.Lock()
	err := applyFrames(&f.st, l.Data)
	f.mu.Unlock()
	if err != nil {
		f.bad.Add(1)
	}
	return err
}

// state is a copy of the state for a queue starting on this member (the
// records are shared: nothing changes them).
func (f *replicaFSM) state() logState {
	f.mu.Lock()
	defer f.mu.Unlock()
	return logState{live: maps.Clone(f.st.live), keys: maps.Clone(f.st.keys), lastID: f.st.lastID}
}

// Snapshot forgets the keys past their window and writes what is live as
// records, as a segment log's snapshot.
func (f *replicaFSM) Snapshot() (raft.FSMSnapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now().UnixNano()
	buf := appendRecord(nil, &taskspb.TaskRecord{Op: &taskspb.TaskRecord_Head{Head: &taskspb.TaskLogHead{NextId: f.st.lastID + 1}}})
	for _, t := range f.st.live {
		buf = appendRecord(buf, &taskspb.TaskRecord{Op: &taskspb.TaskRecord_Stored{Stored: t}})
	}
	for k, e := range f.st.keys {
		if e.GetAtUnixNano()+int64(f.keyWindow) <= now {
			delete(f.st.keys, k)
			continue
		}
		buf = appendRecord(buf, &taskspb.TaskRecord{Op: &taskspb.TaskRecord_Key{Key: e}})
	}
	return fsmSnapshot(buf), nil
}

// Restore replaces the state with a snapshot's.
func (f *replicaFSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		return err
	}
	st := emptyState()
	if err := applyFrames(&st, data); err != nil {
		return err
	}
	f.mu.Lock()
	f.st = st
	f.mu.Unlock()
	return nil
}

type fsmSnapshot []byte

func (s fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	if _, err := sink.Write(s); err != nil {
		_ = sink.Cancel()
		return err
	}
	return sink.Close()
}

func (fsmSnapshot) Release() {}
