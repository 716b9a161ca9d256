package main

import (
	"strings"
	"testing"
	"time"
)

// run is a finished run of sys in (t, s) at rate cycles/s, its processes
// having used cpu in all.
func run(t Topology, sys System, s Shape, rate float64, cpu ...time.Duration) Run {
	r := Run{Topology: t, System: sys, Shape: s, Outcome: Outcome{Shape: s, Done: s.Cycles, Elapsed: time.Duration(float64(s.Cycles) / rate * float64(time.Second))}}
	for _, c := range cpu {
		r.CPU = append(r.CPU, ProcCPU{Role: "p", Time: c})
	}
	return r
}

// The targets of issue 19 and CPU per cycle, on a report made up to meet
// some and miss others.
func TestTargetsAndCPUPerCycle(t *testing.T) {
	seq, par := Shape{Cycles: 1000, Callers: 1}, Shape{Cycles: 1000, Callers: 100}
	rep := &Report{}
	rep.Config.Systems = []System{Switchboard, RabbitMQ, NATS, BareTCP}
	rep.Config.Topologies = []Topology{OneNode, ThreeNodes, TwoNodes}
	rep.Config.Shapes = []Shape{seq, par}
	rep.Runs = []Run{
		// One node: 10× RabbitMQ and 5× NATS met sequentially; 4× NATS with 100 callers.
		run(OneNode, Switchboard, seq, 100000, 4*time.Millisecond, 6*time.Millisecond), // 10 µs a cycle
		run(OneNode, RabbitMQ, seq, 10000),
		run(OneNode, NATS, seq, 20000),
		run(OneNode, BareTCP, seq, 200000),
		run(OneNode, Switchboard, par, 400000),
		run(OneNode, RabbitMQ, par, 10000),
		run(OneNode, NATS, par, 100000),
		// Three nodes: 1.25× NATS but 50 % of bare TCP; failed NATS with 100 callers.
		run(ThreeNodes, Switchboard, seq, 12500, 9*time.Millisecond, 8*time.Millisecond, 7*time.Millisecond),
		run(ThreeNodes, RabbitMQ, seq, 2500),
		run(ThreeNodes, NATS, seq, 10000),
		run(ThreeNodes, BareTCP, seq, 25000),
		run(ThreeNodes, Switchboard, par, 50000),
		run(ThreeNodes, RabbitMQ, par, 5000),
		{Topology: ThreeNodes, System: NATS, Shape: par, Outcome: Outcome{Shape: par, Err: "boom"}},
		run(ThreeNodes, BareTCP, par, 60000),
		// Two nodes: brokers are compared with their three processes.
		run(TwoNodes, Switchboard, seq, 16000),
		run(TwoNodes, BareTCP, seq, 20000),
	}
	for _, c := range []struct {
		t    Topology
		s    Shape
		want string
	}{
		{OneNode, seq, "≥ 10× RabbitMQ: met (10.00×); ≥ 5× NATS: met (5.00×)"},
		{OneNode, par, "≥ 10× RabbitMQ: met (40.00×); ≥ 5× NATS: **not met** (4.00×)"},
		{ThreeNodes, seq, "≥ 1.2× NATS: met (1.25×); ≥ 75 % of bare TCP: **not met** (50 %)"},
		{ThreeNodes, par, "≥ 1.2× NATS: not met (a run failed); ≥ 75 % of bare TCP: met (83 %)"},
		{TwoNodes, seq, "≥ 1.2× NATS: met (1.60×); ≥ 75 % of bare TCP: met (80 %)"},
	} {
		if got := rep.verdict(c.t, c.s); got != c.want {
			t.Errorf("%s %s: %q\nwant %q", c.t, c.s.Label(), got, c.want)
		}
	}
	if x, vs, ok := rep.against(Switchboard, RabbitMQ, TwoNodes, seq); !ok || vs != ThreeNodes || x != 16000.0/2500 {
		t.Errorf("two nodes vs RabbitMQ: %v %v %v", x, vs, ok)
	}
	sb, _ := rep.find(OneNode, Switchboard, seq)
	if got := sb.CPUPerCycle(); got != 10*time.Microsecond {
		t.Errorf("CPU per cycle %v; want 10µs", got)
	}
	if got := (Run{}).CPUPerCycle(); got != 0 {
		t.Errorf("CPU per cycle of a run with no cycles: %v", got)
	}
	md := rep.Markdown("")
	for _, want := range []string{
		"| one node | sequential 1,000 | 100,000 · 10.0 µs |", // cycles/s beside CPU per cycle
		"| three nodes | sequential 1,000 | 12,500 · 24.0 µs |",
		"Switchboard ÷ RabbitMQ | Switchboard ÷ NATS | Switchboard ÷ bare TCP | target |",
		"| 6.40× (vs its three processes) |", // RabbitMQ kept in every table
		"| one node | sequential 1,000 | Switchboard | 100,000 | 10.0 µs |",
		"≥ 75 % of bare TCP: **not met** (50 %)",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
}
