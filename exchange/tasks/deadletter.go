package tasks

import (
	"context"
	"fmt"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/internal/pubsubpb"
)

// deadLetters hands dead tasks to the queue's dead-letter target, a task
// queue or a pub-sub exchange, and keeps each until the target accepted it
// (a pub-sub exchange answers a publish made as a call once routed): a
// target that is missing, full or silent gets it again at the next sweep.
type deadLetters struct {
	s       *tasksServer
	parked  []*DeadLetter // not yet accepted
	sending int           // submitted, not yet answered
	warned  bool
}

// deadAnswer is the target's answer to one dead letter.
type deadAnswer struct {
	letter *DeadLetter
	err    error
}

func (d *deadLetters) init(s *tasksServer) { d.s = s }

// pending counts the dead tasks the target has not accepted yet.
func (d *deadLetters) pending() int { return len(d.parked) + d.sending }

// add takes dead tasks from the queue: to the target, or discarded when
// there is none.
func (d *deadLetters) add(dead []deadTask) {
	s := d.s
	if s.spec.DeadLetter.Name == "" {
		s.q.stats.Discarded += uint64(len(dead))
		for _, t := range dead {
			if t.cause == DeadCause_DEAD_CAUSE_OVERFLOW { // a flood of them is no news: counted
				s.p.Node().Logger().Debug("dead task discarded", "exchange", s.spec.Name, "id", t.id, "reason", t.reason)
				continue
			}
			s.p.Node().Logger().Info("dead task discarded", "exchange", s.spec.Name, "id", t.id, "reason", t.reason)
			s.q.markDone(t.id)
		}
		return
	}
	for _, t := range dead {
		d.parked = append(d.parked, s.letter(t))
	}
	d.send()
}

// letter is the DeadLetter of a dead task.
func (s *tasksServer) letter(t deadTask) *DeadLetter {
	l := &DeadLetter{Queue: s.spec.Name, Id: t.id, Cause: t.cause, Reason: t.reason,
		Deliveries: t.deliveries, Priority: uint32(t.prio), Payload: t.enc}
	if l.Payload == nil {
		a, err := encode(t.msg)
		if err != nil {
			l.Reason += fmt.Sprintf(" (payload dropped: %v)", err)
		}
		l.Payload = a
	}
	return l
}

// retry offers the parked dead letters again.
func (d *deadLetters) retry() { d.send() }

func (d *deadLetters) send() {
	if len(d.parked) == 0 {
		return
	}
	s := d.s
	n := s.p.Node()
	ctx, cancel := context.WithTimeout(context.Background(), resolveTimeout)
	pid, err := s.spec.DeadLetter.Resolve(ctx, n)
	cancel()
	if err != nil {
		d.warn(err)
		return
	}
	left := d.parked[:0]
	for _, l := range d.parked {
		msg, err := d.message(pid, l)
		if err == nil {
			rt := s.p.ExpectReply(context.Background(), pid.Address, func(_ any, err error) any { return deadAnswer{l, err} })
			if err = n.Forward(pid, msg, rt); err != nil {
				n.Cancel(rt)
			}
		}
		if err != nil {
			d.warn(err)
			left = append(left, l)
			continue
		}
		d.sending++
	}
	clear(d.parked[len(left):])
	d.parked = left
}

func (d *deadLetters) answered(a deadAnswer) {
	d.sending--
	if a.err != nil {
		d.parked = append(d.parked, a.letter)
		d.warn(a.err)
		return
	}
	d.s.q.markDone(a.letter.GetId())
	d.warned = false
}

// warn logs the first failure of a run of them.
func (d *deadLetters) warn(err error) {
	if !d.warned {
		d.warned = true
		d.s.p.Node().Logger().Warn("dead letters not accepted; kept and offered again", "exchange", d.s.spec.Name,
			"target", d.s.spec.DeadLetter.Name, "err", clarifyTasks(d.s.spec.DeadLetter, err))
	}
}

// message is what carries a dead letter to the target at pid: a task
// submission, or a publish with DeadLetterKey.
func (d *deadLetters) message(pid *actor.PID, l *DeadLetter) (any, error) {
	n := d.s.p.Node()
	key := d.s.spec.DeadLetterKey
	switch {
	case key == "":
		return submission(n, pid, Submission{Msg: l}, 0)
	case pid.Address == n.Address():
		return &pubsubpb.PublishLocal{Key: key, Value: l}, nil
	}
	a, err := encode(l)
	if err != nil {
		return nil, err
	}
	return &pubsubpb.Publish{Key: key, Payload: a}, nil
}
