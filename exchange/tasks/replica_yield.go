package tasks

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
)

// A takeover of a distributed application runs the old and the new
// instance of a replicated queue together for a moment. The new one's
// start asks the leader's member to hand the lead over; that member first
// tells its own queue to yield (yieldTo): the queue refuses submissions
// from then on (ErrNotLeader), appends what it took, and answers once it
// is committed. Then the member hands the lead over with
// LeadershipTransferToServer. The yielded queue does not stop when its
// member loses the lead (a stopped queue's restart would pull the lead
// back: the two instances would contest it); it delivers nothing more and
// waits, passive, until its application stops it (the takeover's
// handoff). If the takeover fails instead (the taker's queue no longer
// runs, or another member leads), the yielded queue stops, and its
// restart takes the lead back.

// yieldTo is a member's request to its local queue: the lead goes to
// member to.
type yieldTo struct{ to string }

// yieldEnded is the yield watcher's word to its queue: the takeover that
// the queue yielded to is over without it.
type yieldEnded struct{}

// yieldPoll is how often a yielded queue checks whether the takeover
// still goes on.
const yieldPoll = 200 * time.Millisecond

// yield is the queue's side of yieldTo: refuse submissions, append the
// records taken, and answer once they are committed.
func (s *tasksServer) yield(m yieldTo) error {
	if s.d == nil || s.spec.Replica == nil {
		return nil
	}
	if s.yielded == "" {
		s.yielded = m.to
		s.p.Node().Logger().Info("replicated task queue yields the Raft lead", "exchange", s.spec.Name, "to", m.to)
		s.watchYield()
	}
	s.flush()
	d := s.d
	if d.failed != nil {
		return d.failed
	}
	if d.appended > d.synced {
		d.wait(d.appended)
	}
	return nil
}

// watchYield starts the goroutine that tells the queue when the takeover
// it yielded to ended without taking the lead for good; Terminate stops
// it.
func (s *tasksServer) watchYield() {
	r, to, p := s.spec.Replica, s.yielded, s.p
	stop, done := make(chan struct{}), make(chan struct{})
	s.yieldStop, s.yieldDone = stop, done
	self := r.node.Address()
	grace := 2*r.raft.ReloadableConfig().ElectionTimeout + time.Second
	go func() {
		defer close(done)
		t := time.NewTicker(yieldPoll)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			over := false
			switch leader := r.Leader(); leader {
			case "":
				// an election or the hand-over under way
			case to:
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				v, err := r.node.Call(ctx, actor.NamedPID(to, replicaName(r.cfg.Group)), wrapperspb.Bool(true))
				cancel()
				if b, ok := v.(*wrapperspb.BoolValue); err == nil && ok && !b.GetValue() {
					over = true // the taker's queue no longer runs
				}
			case self:
				// the hand-over failed; over once the taker stopped asking
				over = time.Since(time.Unix(0, r.lastYield.Load())) > grace
			default:
				over = true // a third member leads: the taker is gone
			}
			if over {
				_ = p.Send(p.Self(), yieldEnded{})
				return
			}
		}
	}()
}

// stopYieldWatch stops the yield watcher, if it runs.
func (s *tasksServer) stopYieldWatch() {
	if s.yieldStop != nil {
		close(s.yieldStop)
		<-s.yieldDone
		s.yieldStop = nil
	}
}

// yieldOver stops a yielded queue whose takeover ended: its restart takes
// the lead back.
func (s *tasksServer) yieldOver() {
	s.p.Node().Logger().Warn("replicated task queue: the takeover it yielded to ended; restarting to lead again", "exchange", s.spec.Name, "to", s.yielded)
	s.p.Stop(fmt.Errorf("%w: the takeover by %s ended", ErrNotLeader, s.yielded))
}
