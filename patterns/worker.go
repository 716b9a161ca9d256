package patterns

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/exchange/tasks"
	"github.com/switchboard-go/switchboard/internal/taskspb"
	"github.com/switchboard-go/switchboard/supervisor"
)

// TaskHandler handles one delivery, on the worker's goroutine. It settles
// the task with w.Ack, w.Nack or w.Reject, now or later (from any
// goroutine); a task it never settles goes back to the queue at the ack
// timeout. A panic crashes the worker: its unsettled tasks go to other
// workers, and its supervisor restarts it.
type TaskHandler func(w *Worker, t *tasks.Task)

// Worker is a ready worker process for a task queue (AMQP's consumer with
// basic.qos): it registers with a prefetch limit, so the queue never has
// more than Prefetch of its tasks unsettled, hands each delivery to its
// Handler, and sends the acks, nacks and rejects back in one message per
// batch. It follows the queue across restarts and nodes as a Controller
// follows its exchange. OnEvent, if set, sees the queue's events
// (*tasks.WorkerJoined, *exchange.ExchangeDown, *tasks.Revoked,
// *tasks.AcksRefused) and any other message sent to the worker.
type Worker struct {
	actor.BaseServer
	Queue      exchange.Address
	Prefetch   int // the prefetch limit, 1..tasks.MaxPrefetch
	Handler    TaskHandler
	OnEvent    func(p *actor.Process, event any)
	MaxBackoff time.Duration // bounds the wait between attempts to join; default 1 s

	p       *actor.Process
	node    *actor.Node
	self    *actor.PID
	target  *actor.PID  // the queue: as resolved at the last join, then the process that answered
	queue   actor.Local // the process that answered, if on this node: acks skip its look-up
	ref     actor.Ref
	backoff time.Duration

	mu       sync.Mutex // guards what Ack, Nack and Reject touch, from any goroutine
	tags     tagTable
	acks     []uint64
	nacks    []uint64
	rejects  []*taskspb.TaskReject
	inside   bool // the worker's goroutine is in a callback: it flushes at the end
	flushing bool // a workerFlush is in the mailbox
}

// NewWorker is a worker of the task queue ex with prefetch limit prefetch,
// handling deliveries with h.
func NewWorker(ex exchange.Address, prefetch int, h TaskHandler) *Worker {
	return &Worker{Queue: ex, Prefetch: prefetch, Handler: h}
}

// AckOnReturn adapts a function that returns when it is done with a
// task: nil acks it, an error nacks it (for another worker to try).
func AckOnReturn(f func(ctx context.Context, t *tasks.Task) error) TaskHandler {
	return func(w *Worker, t *tasks.Task) {
		if f(context.Background(), t) == nil {
			_ = w.Ack(t.Tag)
		} else {
			_ = w.Nack(t.Tag)
		}
	}
}

// WorkerSpec is the supervisor child spec of a worker; newWorker builds a
// fresh one for every (re)start.
func WorkerSpec(id string, newWorker func() *Worker) supervisor.ChildSpec {
	return supervisor.Worker(id, func() actor.Server { return newWorker() })
}

type (
	workerFlush  struct{ w *Worker } // send the settled tags gathered outside a callback
	workerRejoin struct{ w *Worker }
)

// Init checks the worker and registers it with its queue.
func (w *Worker) Init(p *actor.Process) error {
	if w.Prefetch < 1 || w.Prefetch > tasks.MaxPrefetch {
		return fmt.Errorf("%w: %d outside 1..%d", tasks.ErrBadPrefetch, w.Prefetch, tasks.MaxPrefetch)
	}
	if w.Handler == nil {
		return fmt.Errorf("%w: worker of %q has no Handler", exchange.ErrInvalidSpec, w.Queue.Name)
	}
	w.p, w.node, w.self = p, p.Node(), p.Self()
	w.tags = newTagTable(w.Prefetch)
	w.join()
	return nil
}

// join registers with the queue, found by Address.Resolve at each attempt
// (so the worker follows a queue that moved to another node), and
// monitors it: a missing queue is a Down at once, and another attempt
// after the backoff.
func (w *Worker) join() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	target, err := w.Queue.Resolve(ctx, w.node)
	cancel()
	if err != nil {
		target = actor.NamedPID(w.node.Address(), exchange.RegisteredName(w.Queue.Name))
	}
	w.target, w.queue = target, actor.Local{}
	w.ref = w.p.Monitor(target)
	_ = w.p.Send(target, &taskspb.TaskWorkerJoin{Worker: w.self, PrefetchLimit: uint32(w.Prefetch)})
}

// Ack completes the task delivered under tag: the queue never delivers it
// again. It may be called from any goroutine. Errors, with nothing
// changed: tasks.ErrUnknownTag (not delivered to this worker),
// tasks.ErrAlreadyAcked, tasks.ErrTagRevoked (the queue took the task back at its ack
// timeout, or went away, and delivers it again). The ack goes to the
// queue at the end of the current callback (or at once, from another
// goroutine), batched with the others; if the queue took the task back
// meanwhile, it refuses the ack and the worker gets a
// *tasks.AcksRefused event.
func (w *Worker) Ack(tag uint64) error { return w.settle(tag, settleAck, "") }

// Nack gives the task back: the queue delivers it again, to another
// worker if one has room, or dead-letters it at its delivery limit.
// Errors as Ack's.
func (w *Worker) Nack(tag uint64) error { return w.settle(tag, settleNack, "") }

// Reject dead-letters the task at once (AMQP's reject without requeue),
// with reason. Errors as Ack's.
func (w *Worker) Reject(tag uint64, reason string) error { return w.settle(tag, settleReject, reason) }

type settleKind uint8

const (
	settleAck settleKind = iota
	settleNack
	settleReject
)

func (w *Worker) settle(tag uint64, kind settleKind, reason string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.tags.settle(tag); err != nil {
		return err
	}
	switch kind {
	case settleAck:
		w.acks = append(w.acks, tag)
	case settleNack:
		w.nacks = append(w.nacks, tag)
	case settleReject:
		w.rejects = append(w.rejects, &taskspb.TaskReject{Tag: tag, Reason: reason})
	}
	if !w.inside && !w.flushing {
		w.flushing = true
		_ = w.node.Send(w.self, workerFlush{w})
	}
	return nil
}

// Outstanding is the number of tasks the worker holds unsettled.
func (w *Worker) Outstanding() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.tags.held
}

// HandleInfo takes deliveries and the queue's events.
func (w *Worker) HandleInfo(p *actor.Process, msg any) {
	w.mu.Lock()
	w.inside = true
	w.mu.Unlock()
	w.handle(p, msg)
	w.flush()
}

func (w *Worker) handle(p *actor.Process, msg any) {
	switch m := msg.(type) {
	case workerFlush:
		if m.w != w {
			w.event(p, msg)
		}
		return
	case workerRejoin:
		if m.w == w {
			w.join()
		} else {
			w.event(p, msg)
		}
		return
	case actor.Down:
		if m.Ref == w.ref {
			w.queueDown(p, m)
			return
		}
	}
	if ev, ok := tasks.Event(msg); ok {
		switch e := ev.(type) {
		case *tasks.WorkerJoined:
			if e.Queue == w.Queue.Name {
				w.backoff = 0
				if e.QueuePID != nil {
					w.target = e.QueuePID // acks go to the process itself, without a name lookup each time
					w.queue, _ = w.node.Local(e.QueuePID)
				}
			}
		case *tasks.Revoked:
			w.mu.Lock()
			for _, tag := range e.Tags {
				w.tags.revoke(tag)
			}
			w.mu.Unlock()
		}
		w.event(p, ev)
		return
	}
	if _, batch, bad, ok := tasks.AsTasks(msg); ok {
		w.mu.Lock()
		for _, r := range bad { // a payload this node cannot decode: dead-lettered at once
			w.tags.deliver(r.Tag)
			_ = w.tags.settle(r.Tag)
			w.rejects = append(w.rejects, &taskspb.TaskReject{Tag: r.Tag, Reason: r.Err.Error(), Cause: int32(tasks.DeadCause_DEAD_CAUSE_BAD_PAYLOAD)})
		}
		for i := range batch {
			w.tags.deliver(batch[i].Tag)
		}
		w.mu.Unlock()
		for i := range batch {
			w.Handler(w, &batch[i])
		}
		return
	}
	w.event(p, msg)
}

func (w *Worker) event(p *actor.Process, ev any) {
	if w.OnEvent != nil {
		w.OnEvent(p, ev)
	}
}

// queueDown forgets the queue's deliveries (it delivers them again, or
// they died with it) and joins again after the backoff.
func (w *Worker) queueDown(p *actor.Process, d actor.Down) {
	w.mu.Lock()
	w.tags.revokeAll()
	w.acks, w.nacks, w.rejects = nil, nil, nil
	w.mu.Unlock()
	if w.backoff == 0 {
		w.backoff = 10 * time.Millisecond
	} else if w.backoff *= 2; w.backoff > w.maxBackoff() {
		w.backoff = w.maxBackoff()
	}
	p.SendAfter(w.backoff, workerRejoin{w})
	reason := ""
	if d.Reason != nil {
		reason = d.Reason.Error()
	}
	w.event(p, &exchange.ExchangeDown{Exchange: w.Queue.Name, Reason: reason})
}

func (w *Worker) maxBackoff() time.Duration {
	if w.MaxBackoff > 0 {
		return w.MaxBackoff
	}
	return time.Second
}

// flush ends a callback: the settled tags go to the queue in one message.
func (w *Worker) flush() {
	w.mu.Lock()
	w.inside, w.flushing = false, false
	if len(w.acks)+len(w.nacks)+len(w.rejects) == 0 {
		w.mu.Unlock()
		return
	}
	var m *taskspb.TaskAcks
	if len(w.acks) == 1 && len(w.nacks)+len(w.rejects) == 0 {
		// One ack (a worker that keeps up): the message and its tag in one
		// allocation, and w.acks kept.
		one := &struct {
			m taskspb.TaskAcks
			a [1]uint64
		}{}
		one.a[0] = w.acks[0]
		m = &one.m
		m.Worker, m.Acks = w.self, one.a[:]
		w.acks = w.acks[:0]
	} else {
		m = &taskspb.TaskAcks{Worker: w.self, Acks: w.acks, Nacks: w.nacks, Rejects: w.rejects}
		w.acks = make([]uint64, 0, len(m.Acks))
		w.nacks, w.rejects = nil, nil
	}
	w.mu.Unlock()
	if w.queue.PID() != nil {
		_ = w.queue.Send(w.p, m)
		return
	}
	_ = w.p.Send(w.target, m)
}

// Terminate sends the tasks settled so far, so that a crash loses no ack
// given before it; the queue takes the others back when it sees the
// worker's exit.
func (w *Worker) Terminate(*actor.Process, error) {
	if w.p != nil {
		w.flush()
	}
}
