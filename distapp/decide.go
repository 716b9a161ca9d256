package distapp

import (
	"cmp"
	"slices"
	"time"

	"github.com/switchboard-go/switchboard/supervisor"
)

// The decisions of a standby, as a pure function: what it remembers
// (state) and what the cluster's directory shows now (view) in, what to do
// out. The manager process carries the decision out; decide does no I/O
// and reads no clock.

// state is what a standby remembers between decisions.
type state struct {
	// startup holds until the standby has seen the application run (or
	// started it): a node that starts while the application runs on a
	// node of lower priority takes it over, once.
	startup bool
	// lastHolder is the node last seen running the application: the From
	// of a failover.
	lastHolder string
	// goneAt is when the application was first seen running nowhere;
	// zero while it runs somewhere.
	goneAt time.Time
	// retryAt: no attempt before (after a failed start, a lost lock).
	retryAt time.Time
	// attempting: a lock attempt is under way.
	attempting bool
}

// view is the directory as a standby sees it now.
type view struct {
	now time.Time
	// present are the live nodes of the list that run a controller of
	// the application (this node included), whether they take part yet or
	// still wait for their sync nodes: a standby that takes part yields to
	// a better one that is about to.
	present []string
	// holders are the live nodes that say they run the application,
	// newest first.
	holders []string
	// load is how many distributed applications each node runs.
	load map[string]int
}

// action is what decide asks for.
type action int

const (
	none     action = iota // nothing to do now
	attempt                // try to take the lock and start the application
	cancel                 // stop the attempt under way
	takeover               // take the application over from decision.from
)

type decision struct {
	act  action
	from string               // takeover: the node running it
	st   supervisor.StartType // attempt: how to start it once the lock is held
	wake time.Time            // decide again no later than this (zero: on the next tick)
}

// rank orders candidates: by priority, then by load (fewest first), then
// by name.
func rank(nodes [][]string, candidates []string, load map[string]int) []string {
	out := slices.Clone(candidates)
	slices.SortFunc(out, func(a, b string) int {
		return cmp.Or(
			cmp.Compare(priority(nodes, a), priority(nodes, b)),
			cmp.Compare(load[a], load[b]),
			cmp.Compare(a, b),
		)
	})
	return out
}

// decide is a standby's decision: self is this node, which holds no lock.
//
//   - The application runs somewhere: forget when it went; at startup, take
//     it over if this node is the best present node and of higher
//     priority than the node running it. Cancel an attempt.
//   - It runs nowhere: the standby of rank r tries at goneAt + r×Stagger
//     (+ FailoverTimeout if it ran somewhere before), with start type
//     Failover{From: lastHolder}, or Normal if it never saw it run.
func decide(sp *Spec, self string, s state, v view) (state, decision) {
	if len(v.holders) > 0 {
		h := v.holders[0]
		s.lastHolder, s.goneAt = h, time.Time{}
		if s.startup {
			s.startup = false
			ranked := rank(sp.Nodes, v.present, v.load)
			if h != self && len(ranked) > 0 && ranked[0] == self && priority(sp.Nodes, self) < priority(sp.Nodes, h) {
				return s, decision{act: takeover, from: h}
			}
		}
		if s.attempting {
			return s, decision{act: cancel}
		}
		return s, decision{}
	}
	if s.goneAt.IsZero() {
		s.goneAt = v.now
	}
	r := slices.Index(rank(sp.Nodes, v.present, v.load), self)
	if r < 0 {
		// Not present (yet): no attempt.
		if s.attempting {
			return s, decision{act: cancel}
		}
		return s, decision{}
	}
	due := s.goneAt.Add(time.Duration(r) * sp.Stagger)
	st := supervisor.StartType{Mode: supervisor.Normal}
	if s.lastHolder != "" {
		due = due.Add(sp.FailoverTimeout)
		st = supervisor.StartType{Mode: supervisor.Failover, From: s.lastHolder}
	}
	if due.Before(s.retryAt) {
		due = s.retryAt
	}
	if v.now.Before(due) {
		if s.attempting {
			return s, decision{act: cancel, wake: due}
		}
		return s, decision{wake: due}
	}
	if s.attempting {
		return s, decision{}
	}
	return s, decision{act: attempt, st: st}
}
