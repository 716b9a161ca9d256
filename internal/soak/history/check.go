package history

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Rules, as named in Violations.
const (
	RuleTaskLost     = "task-lost"
	RuleAppliedTwice = "applied-twice"
	RuleHang         = "hang"
	RuleUntyped      = "untyped-error"
	RuleCalmTimeout  = "timeout-no-fault"
	RuleEventLost    = "event-lost"
	RuleMembership   = "membership"
	RuleTwoInstances = "two-instances"
	RuleResources    = "resources"
	RuleStream       = "stream"
)

// Config states the bounds a history is checked against.
type Config struct {
	// Margin is how long after its deadline an operation may still
	// complete (the client's timer and scheduling on a loaded machine).
	Margin time.Duration
	// Settle is how long after the last fault ends membership has to
	// converge, and how long after a fault a delivery is still excused.
	Settle time.Duration
	// Handover is how long two instances of one application may overlap
	// while the old one learns it lost its lock.
	Handover time.Duration
	// MaxGoroutines and MaxHeap bound every sample of every node (0: no bound).
	MaxGoroutines int
	MaxHeap       uint64
	// Volatile is how long after its confirm a volatile task (one to a
	// queue that keeps its tasks in memory, Record.Volatile) may be lost
	// with the instance of its queue's application that held it: a task
	// never applied is excused if an instance of its App ended (stopped or
	// killed) within Volatile of the confirm, and counted.
	Volatile time.Duration
	// Growth bounds the last quarter's peak against the second quarter's
	// per node, for goroutines and heap (0: not checked): a leak grows.
	Growth float64
}

// Violation is a broken rule and the operations (or nodes, apps) involved.
type Violation struct {
	Rule   string
	Ops    []string
	Detail string
}

func (v Violation) String() string {
	ops := strings.Join(v.Ops, ",")
	if len(ops) > 200 {
		ops = ops[:200] + "..."
	}
	return fmt.Sprintf("%s: %s [%s]", v.Rule, v.Detail, ops)
}

// Check verifies a history against cfg and summarises it.
func Check(recs []Record, cfg Config) ([]Violation, Summary) {
	h := index(recs)
	var vs []Violation
	tv, volatileLost := checkTasks(h, cfg)
	vs = append(vs, tv...)
	vs = append(vs, checkEffects(h)...)
	vs = append(vs, checkDeadlines(h, cfg)...)
	vs = append(vs, checkStreams(h)...)
	ev, gaps := checkEvents(h, cfg)
	vs = append(vs, ev...)
	vs = append(vs, checkMembership(h, cfg)...)
	vs = append(vs, checkInstances(h, cfg)...)
	vs = append(vs, checkResources(h, cfg)...)
	s := summarise(h, cfg.Settle)
	s.Gaps = gaps
	s.VolatileLost = volatileLost
	s.Violations = len(vs)
	return vs, s
}

// hist is a history sorted by time and split by type.
type hist struct {
	ops        []Record
	effects    []Record
	deliveries []Record
	faults     []Record
	instances  []Record
	members    []Record
	samples    []Record
	end        time.Time // the latest time in the history
}

func index(recs []Record) *hist {
	h := &hist{}
	for _, r := range recs {
		for _, t := range []time.Time{r.Invoke, r.Complete} {
			if t.After(h.end) {
				h.end = t
			}
		}
		switch r.Type {
		case TypeOp:
			h.ops = append(h.ops, r)
		case TypeEffect:
			h.effects = append(h.effects, r)
		case TypeDelivery:
			h.deliveries = append(h.deliveries, r)
		case TypeFault:
			h.faults = append(h.faults, r)
		case TypeInstance:
			h.instances = append(h.instances, r)
		case TypeMembership:
			h.members = append(h.members, r)
		case TypeSample:
			h.samples = append(h.samples, r)
		}
	}
	for _, s := range [][]Record{h.ops, h.effects, h.deliveries, h.faults, h.instances, h.members, h.samples} {
		sort.SliceStable(s, func(i, j int) bool { return s[i].Invoke.Before(s[j].Invoke) })
	}
	return h
}

// faultEnd is when a fault ended: its Complete, or the history's end if it
// never did.
func (h *hist) faultEnd(f Record) time.Time {
	if f.Complete.IsZero() {
		return h.end
	}
	return f.Complete
}

// touched reports whether a fault on node (or on every node: a fault
// without nodes, as Consul restarted) overlaps [from, to].
func (h *hist) touched(node string, from, to time.Time) bool {
	for _, f := range h.faults {
		if f.Invoke.After(to) || h.faultEnd(f).Before(from) {
			continue
		}
		if len(f.Nodes) == 0 {
			return true
		}
		for _, n := range f.Nodes {
			if n == node {
				return true
			}
		}
	}
	return false
}

// anyFault reports whether any fault overlaps [from, to].
func (h *hist) anyFault(from, to time.Time) bool {
	for _, f := range h.faults {
		if !f.Invoke.After(to) && !h.faultEnd(f).Before(from) {
			return true
		}
	}
	return false
}

// touchedAny reports whether a fault on any of nodes overlaps [from, to].
func (h *hist) touchedAny(nodes []string, from, to time.Time) bool {
	for _, n := range nodes {
		if h.touched(n, from, to) {
			return true
		}
	}
	return false
}

// duringFault reports whether t falls inside any fault.
func (h *hist) duringFault(t time.Time) bool {
	for _, f := range h.faults {
		if !t.Before(f.Invoke) && !t.After(h.faultEnd(f)) {
			return true
		}
	}
	return false
}
