package history

import (
	"fmt"
	"time"

	"github.com/switchboard-go/switchboard/exchange/topic"
)

// Kinds of faults the checker reads: a killed node's process is gone (its
// subscriptions and instances with it), a paused one is frozen.
const (
	FaultKill  = "kill"
	FaultPause = "pause"
	// FaultStall is not injected: a process (Nodes) saw its own timers
	// come late by more than a second, from Invoke to Complete, the
	// machine not running it (on a loaded machine); it counts as a pause
	// of that node, and a driver's stall lengthens the margin of the
	// operations it had in flight.
	FaultStall = "stall"
)

type subscription struct {
	op      Record
	pattern []string
	until   time.Time
}

// checkEvents: every event published after a subscription's confirmation,
// whose key matches it, reached the subscriber, unless a fault touched the
// subscriber's node, the publisher's or the exchange's (the publish's
// Nodes: its subscriptions die with it) around the publish, or the
// exchange's application (the publish's App) started or stopped an
// instance around it: the exchange moved or restarted, and its
// subscriptions with it, until the subscribers subscribe again (a gap).
func checkEvents(h *hist, cfg Config) ([]Violation, int) {
	got := map[[2]string]bool{}
	for _, d := range h.deliveries {
		got[[2]string{d.Client, d.ID}] = true
	}
	var subs []subscription
	for _, op := range h.ops {
		if op.Kind != OpSubscribe || op.Outcome != OutcomeOK {
			continue
		}
		p, err := topic.ParsePattern(op.Key)
		if err != nil {
			continue
		}
		subs = append(subs, subscription{op: op, pattern: p, until: h.killed(op.Node, op.Complete)})
	}
	gaps := 0
	var lost []string
	for _, p := range h.ops {
		if p.Kind != OpPublish || p.Outcome != OutcomeOK {
			continue
		}
		key, err := topic.ParseKey(p.Key)
		if err != nil {
			continue
		}
		for _, s := range subs {
			if !p.Invoke.After(s.op.Complete) || !p.Invoke.Before(s.until) || !topic.Match(s.pattern, key) {
				continue
			}
			if got[[2]string{s.op.Client, p.ID}] {
				continue
			}
			from, to := p.Invoke.Add(-cfg.Settle), p.Complete.Add(cfg.Settle)
			if h.touched(s.op.Node, from, to) || h.touched(p.Node, from, to) || h.touchedAny(p.Nodes, from, to) || h.moved(p.App, from, to) {
				gaps++
				continue
			}
			lost = append(lost, p.ID+"->"+s.op.ID)
		}
	}
	if len(lost) == 0 {
		return nil, gaps
	}
	return []Violation{{Rule: RuleEventLost, Ops: lost,
		Detail: fmt.Sprintf("%d events not delivered to a confirmed subscriber with no fault near", len(lost))}}, gaps
}

// killed is when node was first killed after t, or the history's end.
func (h *hist) killed(node string, t time.Time) time.Time {
	for _, f := range h.faults {
		if f.Kind != FaultKill || f.Invoke.Before(t) {
			continue
		}
		for _, n := range f.Nodes {
			if n == node {
				return f.Invoke
			}
		}
	}
	return h.end.Add(1)
}

// moved reports whether an instance of app started or stopped within
// [from, to].
func (h *hist) moved(app string, from, to time.Time) bool {
	if app == "" {
		return false
	}
	for _, in := range h.instances {
		if in.App == app && !in.Invoke.Before(from) && !in.Invoke.After(to) {
			return true
		}
	}
	return false
}
