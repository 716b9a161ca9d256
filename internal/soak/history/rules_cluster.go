package history

import (
	"fmt"
	"slices"
	"time"
)

// checkMembership: after the last fault ended and Settle passed, every
// node's last view is the set of nodes still reporting.
func checkMembership(h *hist, cfg Config) []Violation {
	if len(h.members) == 0 {
		return nil
	}
	var last time.Time
	for _, f := range h.faults {
		if e := h.faultEnd(f); e.After(last) && f.Kind != FaultStall { // injected faults only
			last = e
		}
	}
	after := last.Add(cfg.Settle)
	views := map[string][]string{}
	for _, m := range h.members {
		if !m.Invoke.Before(after) {
			views[m.Node] = m.Members // sorted by time: the last one stays
		}
	}
	if len(views) == 0 {
		return []Violation{{Rule: RuleMembership, Detail: fmt.Sprintf("no membership view after the last fault + %v (%s)", cfg.Settle, after.Format(time.RFC3339))}}
	}
	var want []string
	for n := range views {
		want = append(want, n)
	}
	slices.Sort(want)
	var vs []Violation
	for _, n := range want {
		got := slices.Clone(views[n])
		slices.Sort(got)
		if !slices.Equal(got, want) {
			vs = append(vs, Violation{Rule: RuleMembership, Ops: []string{n},
				Detail: fmt.Sprintf("node %s sees %v, the cluster is %v", n, got, want)})
		}
	}
	return vs
}

type instance struct {
	app, node  string
	start, end time.Time
}

// checkInstances: two instances of one application on two nodes overlap
// at most Handover, not counting time either node was frozen.
func checkInstances(h *hist, cfg Config) []Violation {
	runs := h.runs()
	var vs []Violation
	for i, a := range runs {
		for _, b := range runs[i+1:] {
			if b.app != a.app || b.node == a.node || !b.start.Before(a.end) {
				continue
			}
			from, to := b.start, minTime(a.end, b.end)
			both := to.Sub(from) - h.frozen(a.node, from, to) - h.frozen(b.node, from, to)
			if both > cfg.Handover {
				vs = append(vs, Violation{Rule: RuleTwoInstances,
					Ops:    []string{a.app + "@" + a.node, b.app + "@" + b.node},
					Detail: fmt.Sprintf("%s ran on %s and %s together for %v from %s", a.app, a.node, b.node, both.Round(time.Millisecond), from.Format(time.RFC3339Nano))})
			}
		}
	}
	return vs
}

// runs are the instances of the history's applications, from their start
// records to their stop, their node's kill, or the history's end, by
// start.
func (h *hist) runs() []instance {
	open := map[[2]string]time.Time{}
	var runs []instance
	closeRun := func(k [2]string, t time.Time) {
		if s, ok := open[k]; ok {
			runs = append(runs, instance{app: k[0], node: k[1], start: s, end: t})
			delete(open, k)
		}
	}
	ev := append([]Record(nil), h.instances...)
	for _, f := range h.faults {
		if f.Kind == FaultKill {
			for _, n := range f.Nodes {
				ev = append(ev, Record{Type: TypeFault, Kind: FaultKill, Node: n, Invoke: f.Invoke})
			}
		}
	}
	slices.SortStableFunc(ev, func(a, b Record) int { return a.Invoke.Compare(b.Invoke) })
	for _, r := range ev {
		if r.Type == TypeFault { // a killed node's instances end with it
			for k := range open {
				if k[1] == r.Node {
					closeRun(k, r.Invoke)
				}
			}
			continue
		}
		k := [2]string{r.App, r.Node}
		switch r.Kind {
		case "start":
			if _, ok := open[k]; !ok {
				open[k] = r.Invoke
			}
		case "stop":
			closeRun(k, r.Invoke)
		}
	}
	for k := range open {
		closeRun(k, h.end)
	}
	slices.SortFunc(runs, func(a, b instance) int { return a.start.Compare(b.start) })
	return runs
}

// frozen is how long node was paused within [from, to].
func (h *hist) frozen(node string, from, to time.Time) time.Duration {
	var d time.Duration
	for _, f := range h.faults {
		if f.Kind != FaultPause && f.Kind != FaultStall || !slices.Contains(f.Nodes, node) {
			continue
		}
		s, e := maxTime(f.Invoke, from), minTime(h.faultEnd(f), to)
		if e.After(s) {
			d += e.Sub(s)
		}
	}
	return d
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// checkResources: every sample within the caps, and no node's last
// quarter peaking above Growth times its second quarter.
func checkResources(h *hist, cfg Config) []Violation {
	var vs []Violation
	byNode := map[string][]Record{}
	var nodes []string
	for _, s := range h.samples {
		if cfg.MaxGoroutines > 0 && s.Gor > cfg.MaxGoroutines {
			vs = append(vs, Violation{Rule: RuleResources, Ops: []string{s.Node},
				Detail: fmt.Sprintf("node %s: %d goroutines > %d at %s", s.Node, s.Gor, cfg.MaxGoroutines, s.Invoke.Format(time.RFC3339))})
		}
		if cfg.MaxHeap > 0 && s.Heap > cfg.MaxHeap {
			vs = append(vs, Violation{Rule: RuleResources, Ops: []string{s.Node},
				Detail: fmt.Sprintf("node %s: heap %d B > %d B at %s", s.Node, s.Heap, cfg.MaxHeap, s.Invoke.Format(time.RFC3339))})
		}
		if _, ok := byNode[s.Node]; !ok {
			nodes = append(nodes, s.Node)
		}
		byNode[s.Node] = append(byNode[s.Node], s)
	}
	if cfg.Growth <= 0 {
		return vs
	}
	for _, n := range nodes {
		ss := byNode[n]
		if len(ss) < 8 {
			continue
		}
		q := len(ss) / 4
		g2, h2 := peak(ss[q : 2*q])
		g4, h4 := peak(ss[len(ss)-q:])
		if float64(g4) > cfg.Growth*float64(g2) || float64(h4) > cfg.Growth*float64(h2) {
			vs = append(vs, Violation{Rule: RuleResources, Ops: []string{n},
				Detail: fmt.Sprintf("node %s grows: goroutines %d -> %d, heap %d -> %d B (bound x%.1f)", n, g2, g4, h2, h4, cfg.Growth)})
		}
	}
	return vs
}

func peak(ss []Record) (int, uint64) {
	var g int
	var hp uint64
	for _, s := range ss {
		g, hp = max(g, s.Gor), max(hp, s.Heap)
	}
	return g, hp
}
