package tasks

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"google.golang.org/protobuf/types/known/anypb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/internal/directory"
	"github.com/switchboard-go/switchboard/internal/taskspb"
	"github.com/switchboard-go/switchboard/supervisor"
)

// Start starts a task queue on n, registered under
// RegisteredName(spec.Name) as any exchange (so Address.Resolve finds it,
// on this node or through the cluster's directory), not linked to
// anything; in an application use ChildSpec, so that a supervisor
// restarts it. The queue holds tasks in memory, and with Spec.Dir in a log
// on disk too: without it they live as long as the process does.
func Start(ctx context.Context, n *actor.Node, spec Spec) (*actor.PID, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	return n.Spawn(ctx, newTasksServer(spec), actor.WithName(exchange.RegisteredName(spec.Name)))
}

// ChildSpec is the supervisor child spec of a task queue.
func ChildSpec(spec Spec) supervisor.ChildSpec {
	return supervisor.ChildSpec{
		ID: "tasks:" + spec.Name,
		Start: func(ctx context.Context, sup *actor.Process, _ any) (*actor.PID, error) {
			if err := spec.Validate(); err != nil {
				return nil, err
			}
			return sup.SpawnLink(ctx, newTasksServer(spec), actor.WithName(exchange.RegisteredName(spec.Name)))
		},
	}
}

// tasksServer is the task queue process: it feeds the queue's state
// (taskQueue) with messages and the time, and sends what it decides.
type tasksServer struct {
	actor.BaseServer
	spec     Spec
	q        *taskQueue
	p        *actor.Process
	epoch    time.Time
	kicked   bool        // a dispatch is due: a tasksDispatch is in the mailbox, or atEnd
	atEnd    bool        // the dispatch is due at the end of the callback being handled
	inside   bool        // in HandleCall or HandleInfo
	self     actor.Local // the queue's own process, for its tasksDispatch
	stopTick func() bool // cancels the next sweep
	dead     deadLetters
	overflow blocked    // submissions waiting for room (OverflowBlock)
	keys     *keyWindow // the idempotency keys seen, once one came
	d        *durable   // the log of a durable queue, or nil
	segBytes int64      // tests: the segment size that triggers a snapshot (0: defaultSegmentBytes)
	kicks    uint64     // tests: the tasksDispatch messages handled

	replicaActive bool          // counted in the replica's active queues
	yielded       string        // a replicated queue that yielded the lead in a takeover: to whom
	yieldStop     chan struct{} // stops the yield watcher
	yieldDone     chan struct{}
}

// The queue's messages to itself.
type (
	tasksDispatch struct{} // deliver what can be delivered, once per mailbox run
	tasksSweep    struct{} // the sweeper's tick: ack timeouts, dead letters
)

func newTasksServer(spec Spec) *tasksServer {
	spec.defaults()
	// Tags start at random, far below overflow: a restarted queue never
	// reissues a tag that a worker of the previous one may still hold.
	return &tasksServer{spec: spec, q: newTaskQueue(&spec, rand.Uint64()>>2)}
}

func (s *tasksServer) now() int64 { return int64(time.Since(s.epoch)) }

// Init publishes the queue in the cluster's directory, if the node joined
// one, and starts the sweeper.
func (s *tasksServer) Init(p *actor.Process) error {
	s.p, s.epoch = p, time.Now()
	s.self, _ = p.Node().Local(p.Self())
	s.dead.init(s)
	if s.spec.Dir != "" {
		s.q.journal = true
		d, err := openDurable(s, s.spec.Dir, time.Now().UnixNano())
		if err != nil {
			return err
		}
		s.d = d
		if s.segBytes > 0 {
			d.segmentBytes = s.segBytes
		}
	}
	if s.spec.Replica != nil {
		s.q.journal = true
		d, err := openReplicated(s, s.spec.Replica, time.Now().UnixNano())
		if err != nil {
			return err
		}
		s.d = d
	}
	directory.Publish(p, exchange.RegisteredName(s.spec.Name), s.spec.Name)
	s.stopTick = p.SendAfter(s.spec.sweepEvery(), tasksSweep{})
	return nil
}

// Terminate stops the sweeper, syncs and closes a durable queue's log,
// and withdraws the queue from the directory.
func (s *tasksServer) Terminate(p *actor.Process, _ error) {
	if s.stopTick != nil {
		s.stopTick()
	}
	s.overflow.release(s.p.Node())
	s.stopYieldWatch()
	if s.d != nil {
		s.d.close(s.q.done)
		s.q.done = s.q.done[:0]
	}
	if r := s.spec.Replica; r != nil && s.replicaActive {
		r.queue.CompareAndSwap(p.Self(), nil)
		r.active.Add(-1)
	}
	directory.Withdraw(p, exchange.RegisteredName(s.spec.Name))
}

// HandleCall takes submissions and answers inspections.
func (s *tasksServer) HandleCall(p *actor.Process, msg any) (any, error) {
	s.inside = true
	v, err := s.handleCall(p, msg)
	s.dispatchAtEnd()
	s.inside = false
	return v, err
}

func (s *tasksServer) handleCall(p *actor.Process, msg any) (any, error) {
	switch m := msg.(type) {
	case *Submission:
		return nil, s.submit(m.Msg, nil, m.Priority, m.Key)
	case *taskspb.TaskSubmit:
		a := m.GetPayload()
		if a == nil {
			return nil, fmt.Errorf("%w: no payload", exchange.ErrBadRequest)
		}
		if len(a.GetValue()) > s.spec.MaxPayload {
			return nil, fmt.Errorf("%w: %d bytes, limit %d", exchange.ErrTooLarge, len(a.GetValue()), s.spec.MaxPayload)
		}
		v, err := a.UnmarshalNew()
		if err != nil {
			return nil, fmt.Errorf("%w: %w", exchange.ErrBadRequest, err)
		}
		return nil, s.submit(v, a, int(min(m.GetPriority(), 1<<16)), m.GetKey())
	case yieldTo:
		return nil, s.yield(m)
	case *taskspb.TaskInspect:
		st := s.q.snapshot()
		st.DeadLetterPending = s.dead.pending()
		if s.d != nil {
			st.Syncs = s.d.log.syncCount()
		}
		return st.proto(), nil
	}
	return nil, actor.ErrUnhandled
}

// submit queues a task. A task whose key is in the window is a
// duplicate: confirmed (once the first is stored), not queued. In a
// durable queue the confirm waits until the log is synced (DeferReply).
func (s *tasksServer) submit(msg any, enc *anypb.Any, prio int, key string) error {
	if key == "" && s.d == nil {
		if s.overflow.waiting() { // behind those already waiting (OverflowBlock)
			return s.park(msg, enc, prio)
		}
		if err := s.q.submit(msg, enc, prio, s.dead.pending()); err != nil {
			return s.overflowed(msg, enc, prio, err)
		}
		s.kick()
		return nil
	}
	return s.submitKept(msg, enc, prio, key)
}

// submitKept is submit with a key, or to a durable queue.
func (s *tasksServer) submitKept(msg any, enc *anypb.Any, prio int, key string) error {
	if s.yielded != "" {
		return fmt.Errorf("%w: the queue handed the lead to %s (a takeover)", ErrNotLeader, s.yielded)
	}
	if s.d != nil && s.d.failed != nil {
		return s.d.failed
	}
	var now int64
	if key != "" {
		if len(key) > MaxKeyLen {
			return fmt.Errorf("%w: %d bytes, limit %d", ErrBadKey, len(key), MaxKeyLen)
		}
		now = time.Now().UnixNano() // wall clock: a durable queue's window outlives the process
		if e, ok := s.keyWindow().lookup(key, now); ok {
			s.q.stats.Duplicates++
			if s.d != nil && e.seq > s.d.synced {
				s.d.wait(e.seq)
			}
			return nil
		}
	}
	if s.d != nil {
		if s.d.failed != nil {
			return s.d.failed
		}
		if enc == nil {
			a, err := encode(msg)
			if err != nil {
				return fmt.Errorf("%w: a durable queue stores protobuf messages: %w", actor.ErrNotSerializable, err)
			}
			enc = a
		}
	}
	seq, err := s.accept(msg, enc, prio, key, now)
	if err != nil {
		return err
	}
	if s.d != nil {
		s.d.wait(seq)
	}
	return nil
}

// accept queues a task that passed the key window: into the queue, the
// log of a durable queue (seq is the commit that syncs it, for its
// confirm to wait for) and the window. A submission that waited for room
// comes in here too.
//
// A replicated queue holds the task until its record is committed
// (d.held), and only then queues it for delivery: a task delivered before
// and lost with its entry (the lead lost) would be submitted again by the
// producer, with its key, and run as a second task.
func (s *tasksServer) accept(msg any, enc *anypb.Any, prio int, key string, now int64) (seq uint64, err error) {
	held := 0
	if s.d != nil {
		held = len(s.d.held)
	}
	t, err := s.q.take(msg, enc, prio, s.dead.pending()+held)
	if err != nil {
		return 0, err
	}
	t.key = key
	if s.d != nil {
		seq = s.d.stored(s.q.nextID, prio, key, now, enc)
	}
	if key != "" {
		s.keys.add(key, now, s.q.nextID, seq)
	}
	if s.d != nil && s.spec.Replica != nil {
		s.d.held = append(s.d.held, heldTask{t: t, seq: seq})
	} else {
		s.q.ready.pushBack(t)
	}
	s.kick() // the mailbox run's end (flush) appends the records
	return seq, nil
}

// keyWindow returns the queue's window of idempotency keys.
func (s *tasksServer) keyWindow() *keyWindow {
	if s.keys == nil {
		s.keys = newKeyWindow(int64(s.spec.DedupWindow), s.spec.MaxKeys)
	}
	return s.keys
}

// kick asks for a dispatch after the messages already in the mailbox, so
// that a burst of submissions or acks is delivered in batches: with none
// waiting, at the end of the callback being handled (no message to
// itself: a submission to an idle queue is delivered as it is handled),
// else with a tasksDispatch behind them.
func (s *tasksServer) kick() {
	if s.kicked {
		return
	}
	s.kicked = true
	if s.inside {
		if b, ok := s.self.Backlog(); ok && b == 0 {
			s.atEnd = true
			return
		}
	}
	if s.self.PID() != nil {
		_ = s.self.Send(s.p, tasksDispatch{})
		return
	}
	_ = s.p.Send(s.p.Self(), tasksDispatch{})
}

// dispatchAtEnd ends a callback with the dispatch kick left for it, and
// what that dispatch decides.
func (s *tasksServer) dispatchAtEnd() {
	for s.atEnd { // a kick from the flush (a payload dropped) comes round again
		s.atEnd, s.kicked = false, false
		s.dispatch()
		s.unblock(false)
		s.flush()
	}
}

// dispatch delivers what can be delivered.
func (s *tasksServer) dispatch() {
	if s.yielded == "" {
		s.q.dispatch(s.now())
	}
}

// HandleInfo takes the workers' messages, their deaths, and the queue's
// own ticks.
func (s *tasksServer) HandleInfo(p *actor.Process, msg any) {
	s.inside = true
	s.handleInfo(p, msg)
	s.dispatchAtEnd()
	s.inside = false
}

func (s *tasksServer) handleInfo(p *actor.Process, msg any) {
	switch m := msg.(type) {
	case tasksDispatch:
		s.kicked = false
		s.kicks++
		s.dispatch()
	case *taskspb.TaskAcks:
		s.settle(m)
	case *taskspb.TaskWorkerJoin:
		s.join(m)
	case *taskspb.TaskWorkerLeave:
		if w := s.q.byKey[pidKey(m.GetWorker())]; w != nil {
			p.Demonitor(w.ref)
			s.q.remove(w, "worker left")
			s.kick()
		}
	case actor.Down:
		if w := s.q.byKey[pidKey(m.PID)]; w != nil && w.ref == m.Ref {
			s.q.remove(w, fmt.Sprintf("worker exited: %v", m.Reason))
			s.kick()
		}
	case tasksSweep:
		s.q.expire(s.now())
		s.dead.retry()
		if s.yielded == "" {
			s.q.dispatch(s.now())
		}
		s.stopTick = p.SendAfter(s.spec.sweepEvery(), tasksSweep{})
	case deadAnswer:
		s.dead.answered(m)
	case tasksUnblock:
		s.unblock(true)
	case tasksSynced:
		if s.d != nil {
			s.d.onSynced(m)
		}
	case yieldEnded:
		s.yieldOver()
	}
	s.unblock(false)
	s.flush()
}

func (s *tasksServer) join(m *taskspb.TaskWorkerJoin) {
	pid, prefetch := m.GetWorker(), m.GetPrefetchLimit()
	if pid == nil || prefetch < 1 || prefetch > MaxPrefetch {
		s.p.Node().Logger().Warn("task worker refused", "exchange", s.spec.Name, "worker", actor.FormatPID(pid),
			"err", fmt.Errorf("%w: %d", ErrBadPrefetch, prefetch))
		return
	}
	w, added := s.q.join(pid, int(prefetch))
	if added {
		w.ref = s.p.Monitor(pid)
		w.h, _ = s.p.Node().Local(pid) // none on another node, or for a NamedPID: sent by PID
	}
	s.kick() // before the worker hears of it: what it does next comes after this dispatch
	s.send(pid, &taskspb.TaskWorkerJoined{Queue: s.spec.Name, QueuePid: s.p.Self(), PrefetchLimit: prefetch})
}

// settle applies a worker's acks, nacks and rejects; those of a worker the
// queue does not know (it was taken for dead, or the queue restarted) are
// all refused.
func (s *tasksServer) settle(m *taskspb.TaskAcks) {
	w := s.q.byKey[pidKey(m.GetWorker())]
	if w == nil {
		if m.GetWorker() == nil {
			return
		}
		tags := append(append([]uint64(nil), m.GetAcks()...), m.GetNacks()...)
		for _, r := range m.GetRejects() {
			tags = append(tags, r.GetTag())
		}
		s.q.stats.RefusedAcks += uint64(len(tags))
		s.send(m.GetWorker(), &taskspb.TaskAckRefused{Queue: s.spec.Name, Tags: tags, Reason: ErrTagRevoked.Error() + ": not a worker of this queue"})
		return
	}
	for _, tag := range m.GetAcks() {
		_ = s.q.ack(w, tag)
	}
	for _, tag := range m.GetNacks() {
		_ = s.q.nack(w, tag)
	}
	for _, r := range m.GetRejects() {
		cause := DeadCause(r.GetCause())
		if cause == DeadCause_DEAD_CAUSE_UNSPECIFIED {
			cause = DeadCause_DEAD_CAUSE_REJECTED
		}
		_ = s.q.reject(w, r.GetTag(), cause, r.GetReason())
	}
	s.kick()
}

// flush carries out what the last event left in the queue's outbox.
func (s *tasksServer) flush() {
	q := s.q
	for i, w := range q.busy {
		w.busy = false
		if len(w.revoked) > 0 {
			s.sendWorker(w, &taskspb.TaskRevoked{Queue: s.spec.Name, Tags: w.revoked})
			w.revoked = nil
		}
		if len(w.refused) > 0 {
			s.sendWorker(w, &taskspb.TaskAckRefused{Queue: s.spec.Name, Tags: w.refused, Reason: ErrTagRevoked.Error()})
			w.refused = nil
		}
		if len(w.batch) > 0 {
			s.deliver(w)
		}
		q.busy[i] = nil
	}
	q.busy = q.busy[:0]
	if len(q.dead) > 0 {
		s.dead.add(q.dead)
		q.dead = q.dead[:0]
	}
	if s.d != nil {
		s.d.commit(q.done)
		q.done = q.done[:0]
	}
}

// send sends to a worker. A message that cannot go because this node is
// stopping or the worker's is gone is no news (the worker's deliveries are
// taken back when its monitor fires): debug level. Anything else is a bug
// worth a warning.
func (s *tasksServer) send(to *actor.PID, msg any) { s.sent(to, msg, s.p.Send(to, msg)) }

// sendWorker sends to a worker through its process's handle, if it has
// one.
func (s *tasksServer) sendWorker(w *taskWorker, msg any) {
	if w.h.PID() == nil {
		s.send(w.pid, msg)
		return
	}
	s.sent(w.pid, msg, w.h.Send(s.p, msg))
}

// sent logs a message to a worker that did not go.
func (s *tasksServer) sent(to *actor.PID, msg any, err error) {
	switch {
	case err == nil:
	case errors.Is(err, actor.ErrNodeStopped) || errors.Is(err, actor.ErrNodeDown) || errors.Is(err, actor.ErrNoProcess):
		s.p.Node().Logger().Debug("task queue message not sent", "exchange", s.spec.Name, "to", actor.FormatPID(to), "err", err)
	default:
		s.p.Node().Logger().Warn("task queue message not sent", "exchange", s.spec.Name, "to", actor.FormatPID(to), "err", err)
	}
}
