package tasks

import (
	"errors"
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/anypb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
)

// The Overflow policy of a full queue (Spec.MaxQueue). OverflowReject is
// the queue's own ErrQueueFull; this file adds the other two.
//
// OverflowBlock: a submission to a full queue is not answered until the
// queue has room (it is queued then, in arrival order, and answered nil)
// or BlockTimeout has passed (ErrQueueFull). A producer's call waits
// meanwhile, so producers go at the workers' pace; submissions that come
// while others wait queue behind them. At most MaxQueue wait; more are
// refused at once.
//
// OverflowDropOldest: the oldest ready task of the lowest priority is
// dead-lettered (DEAD_CAUSE_OVERFLOW; discarded and counted if the queue
// has no dead-letter target) and the new one is queued, while the dead
// letters not yet accepted by their target stay under MaxQueue too.

// tasksUnblock is the timer of the oldest waiting submission.
type tasksUnblock struct{}

// blocked are the submissions waiting for room, oldest first.
type blocked struct {
	subs  []waitingSubmission
	head  int
	armed bool        // a tasksUnblock is on its way
	stop  func() bool // cancels it
}

type waitingSubmission struct {
	msg   any
	enc   *anypb.Any
	prio  int
	rt    actor.ReplyTo
	until time.Time
}

func (b *blocked) waiting() bool { return b.head < len(b.subs) }

func (b *blocked) len() int { return len(b.subs) - b.head }

func (b *blocked) pop() {
	b.subs[b.head] = waitingSubmission{}
	b.head++
	if b.head == len(b.subs) {
		b.subs, b.head = b.subs[:0], 0
	}
}

// release answers every waiting submission when the queue stops: none
// was queued, so the producer may submit again elsewhere.
func (b *blocked) release(n *actor.Node) {
	if b.stop != nil {
		b.stop()
	}
	for ; b.waiting(); b.pop() {
		n.Reply(b.subs[b.head].rt, nil, fmt.Errorf("%w: the queue stopped while the task waited for room", exchange.ErrExchangeNotFound))
	}
}

// full is the queue's own MaxQueue test.
func (s *tasksServer) full() bool {
	q := s.q
	return q.maxQueue > 0 && q.ready.len()+s.dead.pending() >= q.maxQueue
}

// overflowed applies the policy to a submission the queue refused with
// err (ErrQueueFull, counted as refused, or another error).
func (s *tasksServer) overflowed(msg any, enc *anypb.Any, prio int, err error) error {
	if !errors.Is(err, ErrQueueFull) {
		return err
	}
	switch s.spec.Overflow {
	case exchange.OverflowBlock:
		s.q.stats.Refused-- // not refused yet: it waits
		return s.park(msg, enc, prio)
	case exchange.OverflowDropOldest:
		return s.dropOldest(msg, enc, prio, err)
	}
	return err
}

// park defers the answer to a submission until the queue takes it or its
// wait ends. It runs in HandleCall.
func (s *tasksServer) park(msg any, enc *anypb.Any, prio int) error {
	q := s.q
	if prio < 0 || prio >= len(q.ready.levels) {
		return fmt.Errorf("%w: %d outside 0..%d", ErrBadPriority, prio, len(q.ready.levels)-1)
	}
	b := &s.overflow
	if q.maxQueue > 0 && b.len() >= q.maxQueue {
		q.stats.Refused++
		return fmt.Errorf("%w: %q holds %d tasks and as many submissions wait", ErrQueueFull, q.name, q.maxQueue)
	}
	b.subs = append(b.subs, waitingSubmission{msg: msg, enc: enc, prio: prio, rt: s.p.DeferReply(), until: time.Now().Add(s.spec.BlockTimeout)})
	s.armUnblock()
	return nil
}

func (s *tasksServer) armUnblock() {
	b := &s.overflow
	if b.armed || !b.waiting() {
		return
	}
	b.armed = true
	b.stop = s.p.SendAfter(max(time.Until(b.subs[b.head].until), 0), tasksUnblock{})
}

// unblock queues the waiting submissions the queue has room for, in
// order, and refuses those whose wait is over; fired says the timer came.
// It runs after every message the queue handles.
func (s *tasksServer) unblock(fired bool) {
	b := &s.overflow
	if fired {
		b.armed = false
	}
	if !b.waiting() {
		return
	}
	n := s.p.Node()
	for b.waiting() && !s.full() {
		w := &b.subs[b.head]
		err := s.q.submit(w.msg, w.enc, w.prio, s.dead.pending())
		n.Reply(w.rt, nil, err)
		b.pop()
		if err == nil {
			s.kick()
		}
	}
	for now := time.Now(); b.waiting() && !b.subs[b.head].until.After(now); b.pop() {
		s.q.stats.Refused++
		n.Reply(b.subs[b.head].rt, nil, fmt.Errorf("%w: %q holds %d tasks; waited %v for room", ErrQueueFull, s.q.name, s.q.maxQueue, s.spec.BlockTimeout))
	}
	s.armUnblock()
}

// dropOldest makes room for a submission by dead-lettering the oldest
// ready task of the lowest priority, unless the dead letters not yet
// accepted by their target fill MaxQueue themselves (then err stands).
func (s *tasksServer) dropOldest(msg any, enc *anypb.Any, prio int, err error) error {
	q := s.q
	if q.ready.len() == 0 || s.dead.pending()+len(q.dead) >= q.maxQueue {
		return err
	}
	q.stats.Refused-- // it is taken
	q.kill(q.ready.popOldest(), DeadCause_DEAD_CAUSE_OVERFLOW, "the queue was full and drops its oldest tasks")
	// The dead letters on their way count apart here, up to MaxQueue
	// (above): the ready tasks have room again.
	if err := q.submit(msg, enc, prio, 0); err != nil {
		return err
	}
	s.kick() // also hands the dead task to its target
	return nil
}

// popOldest removes the oldest task of the lowest priority that has one.
func (r *readyQueue) popOldest() *task {
	for p := range r.levels {
		if d := &r.levels[p]; d.n > 0 {
			t := d.popFront()
			r.n--
			for r.top > 0 && r.levels[r.top].n == 0 {
				r.top--
			}
			return t
		}
	}
	return nil
}
