package main

import (
	"fmt"
	"strings"
	"time"
)

// goal is one target of Switchboard's cycles/s: at least ratio times
// system's, in the same topology and shape.
type goal struct {
	system System
	ratio  float64
}

// goals are what issue 19 asks of Switchboard. Across nodes the peer to
// beat is NATS and the limit to approach the bare-TCP floor (RabbitMQ is
// far behind on every shape, by a margin that depends on the machine's
// other load); in one node, RabbitMQ and NATS by wide margins.
func goals(t Topology) []goal {
	if t == OneNode {
		return []goal{{RabbitMQ, 10}, {NATS, 5}}
	}
	return []goal{{NATS, 1.2}, {BareTCP, 0.75}}
}

func (g goal) String() string {
	if g.ratio < 1 {
		return fmt.Sprintf("≥ %.0f %% of %s", 100*g.ratio, g.system)
	}
	return fmt.Sprintf("≥ %g× %s", g.ratio, g.system)
}

// fmtRatio is a ratio as a goal states it: times, or a percentage below 1
// for the floor.
func fmtRatio(x float64, g goal) string {
	if g.ratio < 1 {
		return fmt.Sprintf("%.0f %%", 100*x)
	}
	return fmt.Sprintf("%.2f×", x)
}

// verdict is the target cell of (t, s): every goal, met or not, with the
// measured ratio.
func (r *Report) verdict(t Topology, s Shape) string {
	var parts []string
	for _, g := range goals(t) {
		if !has(r.Config.Systems, g.system) {
			parts = append(parts, g.String()+": not run")
			continue
		}
		x, _, ok := r.against(Switchboard, g.system, t, s)
		switch {
		case !ok:
			parts = append(parts, g.String()+": not met (a run failed)")
		case x < g.ratio:
			parts = append(parts, fmt.Sprintf("%s: **not met** (%s)", g, fmtRatio(x, g)))
		default:
			parts = append(parts, fmt.Sprintf("%s: met (%s)", g, fmtRatio(x, g)))
		}
	}
	return strings.Join(parts, "; ")
}

// against is sys's cycles/s over base's for (t, s); a topology base does
// not have (brokers cannot host their server: TwoNodes) is compared with
// base's three processes.
func (r *Report) against(sys, base System, t Topology, s Shape) (ratio float64, vs Topology, ok bool) {
	a, ok1 := r.find(t, sys, s)
	vs = t
	if !base.Has(t) {
		vs = ThreeNodes
	}
	b, ok2 := r.find(vs, base, s)
	if !ok1 || !ok2 || a.Failed() != "" || b.Failed() != "" || a.Absent != "" || b.Absent != "" || b.Outcome.Rate() == 0 {
		return 0, vs, false
	}
	return a.Outcome.Rate() / b.Outcome.Rate(), vs, true
}

// CPUPerCycle is the CPU time of the topology's processes (client,
// exchange or broker, controller or server; not the harness), summed,
// over the cycles done: on a machine whose cores are all busy, what a
// cycle costs decides the throughput. Zero if unknown.
func (r Run) CPUPerCycle() time.Duration {
	if r.Outcome.Done <= 0 {
		return 0
	}
	var sum time.Duration
	for _, c := range r.CPU {
		sum += c.Time
	}
	return sum / time.Duration(r.Outcome.Done)
}

// fmtCPU is a CPU time per cycle, in µs with one decimal.
func fmtCPU(d time.Duration) string {
	if d <= 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f µs", float64(d)/float64(time.Microsecond))
}
