package distapp

import (
	"context"
	"fmt"
	"time"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/internal/distapppb"
	"github.com/switchboard-go/switchboard/supervisor"
)

// A takeover, between the manager T of the node taking the application and
// the manager O of the node running it:
//
//  1. T calls O with Release: O releases its lock; its instance keeps
//     running (phase handing), and O monitors T.
//  2. T takes the lock and starts the application with Takeover{From: O}
//     (its Start may ask the old instance for its state: it still runs).
//  3. T calls O with Handoff: O runs Spec.Handover, stops its instance and
//     stands by.
//
// If T fails at 2 it sends Abort; if T goes down, or the takeover outlasts
// TakeoverTimeout, O acts as on Abort: it takes its lock back if it is
// free, else (another node has it) it stops its instance. The two
// instances overlap from T's start to O's stop, and only then.

// move takes the application over to this node (Coordinator.Takeover).
func (m *manager) move() error {
	switch {
	case m.phase == running:
		return nil
	case m.phase == handing:
		return fmt.Errorf("%w: %q: this node is handing it over", ErrTakeover, m.name)
	case !m.going:
		return fmt.Errorf("%w: %q: this node does not take part yet", ErrTakeover, m.name)
	}
	v := m.view()
	if len(v.holders) == 0 {
		return fmt.Errorf("%w: %q", ErrNotRunning, m.name)
	}
	return m.takeoverFrom(v.holders[0])
}

// takeoverFrom is T's side.
func (m *manager) takeoverFrom(from string) error {
	m.cancelAttempt()
	mem, ok := m.c.cl.Member(from)
	if !ok {
		return fmt.Errorf("%w: %q: %s is not a member", ErrTakeover, m.name, from)
	}
	peer := actor.NamedPID(mem.Address, ProcessName(m.name))
	ctx, cancel := context.WithTimeout(context.Background(), m.spec.TakeoverTimeout)
	defer cancel()
	m.log.Info("distributed application: taking it over", "from", from)
	if err := m.askRelease(ctx, peer); err != nil {
		return fmt.Errorf("%w: %q: %s did not release it: %w", ErrTakeover, m.name, from, err)
	}
	lctx, lcancel := context.WithTimeout(ctx, 10*time.Second)
	lk, err := m.c.locker.Lock(lctx, lockKey(m.name))
	lcancel()
	if err != nil {
		_ = m.p.Send(peer, &distapppb.Abort{App: m.name, To: m.self})
		return fmt.Errorf("%w: %q: lock: %w", ErrTakeover, m.name, err)
	}
	if err := m.startHere(lk, supervisor.StartType{Mode: supervisor.Takeover, From: from}); err != nil {
		_ = m.p.Send(peer, &distapppb.Abort{App: m.name, To: m.self})
		return fmt.Errorf("%w: %q: start: %w", ErrTakeover, m.name, err)
	}
	if _, err := m.p.Call(ctx, peer, &distapppb.Handoff{App: m.name, To: m.self}); err != nil {
		// O stops its instance by itself when its wait for Handoff ends.
		m.log.Warn("distributed application: handoff", "from", from, "err", err)
	}
	return nil
}

// askRelease is T's step 1: it asks O to release the application, and asks
// again while O answers NotMemberYet (it does not see T as a member yet:
// views of membership lag each other, and a node that has just joined often
// sees the node running the application before that node sees it), waiting
// 50 ms, 100 ms, ... at most 500 ms between tries, until ctx ends.
func (m *manager) askRelease(ctx context.Context, peer *actor.PID) error {
	wait := 50 * time.Millisecond
	for {
		reply, err := m.p.Call(ctx, peer, &distapppb.Release{App: m.name, To: m.self})
		if err != nil {
			return err
		}
		if _, refused := reply.(*distapppb.NotMemberYet); !refused {
			return nil
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w: %q: %s is not a member yet on %s: %w", ErrTakeover, m.name, m.self, peer.Address, ctx.Err())
		case <-t.C:
		}
		wait = min(2*wait, 500*time.Millisecond)
	}
}

// Takeovers at startup are tried again after a failure, up to
// startupTries times in all, waiting 100 ms, 200 ms, ... at most 1 s between
// tries (about 6 s in all): a node that has just joined is often not yet a
// member in the running node's view, which refuses the Release until it is.
const startupTries = 10

// takeoverFailed schedules the next try of a takeover at startup, or gives
// up: the application then stays where it runs.
func (m *manager) takeoverFailed(from string, err error) {
	m.tries++
	if m.tries >= startupTries {
		m.log.Warn("distributed application: takeover failed; it stays where it runs", "from", from, "tries", m.tries, "err", err)
		m.tries = 0
		return
	}
	m.log.Info("distributed application: takeover failed; trying again", "from", from, "tries", m.tries, "err", err)
	m.p.SendAfter(min(time.Duration(m.tries)*100*time.Millisecond, time.Second), retryTakeover{})
}

// release is O's side of step 1.
func (m *manager) release(r *distapppb.Release) (any, error) {
	if m.phase != running {
		return nil, fmt.Errorf("%w: %q does not run on %s", ErrTakeover, m.name, m.self)
	}
	if priority(m.spec.Nodes, r.GetTo()) < 0 {
		return nil, fmt.Errorf("%w: %q: %s is not listed", ErrTakeover, m.name, r.GetTo())
	}
	mem, ok := m.c.cl.Member(r.GetTo())
	if !ok {
		return &distapppb.NotMemberYet{App: m.name, To: r.GetTo()}, nil
	}
	m.unlock() // the instance runs on, without the lock, until Handoff
	m.phase = handing
	m.handTo = r.GetTo()
	m.handRef = m.p.Monitor(actor.NamedPID(mem.Address, ProcessName(m.name)))
	m.handGen++
	m.p.SendAfter(m.spec.TakeoverTimeout, handingTimeout{gen: m.handGen})
	m.log.Info("distributed application: released for a takeover", "to", m.handTo)
	return nil, nil
}

// handoff is O's side of step 3.
func (m *manager) handoff(h *distapppb.Handoff) error {
	if m.phase != handing || h.GetTo() != m.handTo {
		return fmt.Errorf("%w: %q: no takeover by %s under way on %s", ErrTakeover, m.name, h.GetTo(), m.self)
	}
	m.p.Demonitor(m.handRef)
	if m.spec.Handover != nil {
		ctx, cancel := context.WithTimeout(context.Background(), m.spec.TakeoverTimeout)
		err := m.spec.Handover(ctx, m.p.Node(), m.handTo)
		cancel()
		if err != nil {
			m.log.Warn("distributed application: handover", "to", m.handTo, "err", err)
		}
	}
	m.stopHere(m.spec.TakeoverTimeout)
	m.toStandby(m.handTo)
	m.st.startup = false
	m.log.Info("distributed application: handed over", "to", m.handTo)
	return nil
}

// abort ends a takeover that failed on O's side: the lock back if it is
// free, else stop.
func (m *manager) abort(to, why string) {
	if m.phase != handing || to != m.handTo {
		return
	}
	m.p.Demonitor(m.handRef)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	lk, err := m.c.locker.TryLock(ctx, lockKey(m.name))
	cancel()
	if err == nil {
		m.hold(lk)
		m.phase = running
		m.log.Warn("distributed application: takeover aborted; it stays here", "to", to, "why", why)
		return
	}
	m.log.Warn("distributed application: takeover aborted and its lock is taken; stopping it here", "to", to, "why", why, "err", err)
	m.stopHere(m.spec.TakeoverTimeout)
	m.toStandby(to)
}
