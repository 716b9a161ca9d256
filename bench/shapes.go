package main

import (
	"fmt"
	"slices"
	"sort"
	"time"
)

// Shape is one run of the seed's test: Cycles ping/pong cycles spread over
// Callers callers, each waiting for its pong before sending the next ping.
type Shape struct {
	Cycles  int `json:"cycles"`
	Callers int `json:"callers"`
	// A durable shape (durable.go): Cycles tasks from Callers producers,
	// each with up to Window unconfirmed, Workers workers with Prefetch.
	Window   int `json:"window,omitempty"`
	Workers  int `json:"workers,omitempty"`
	Prefetch int `json:"prefetch,omitempty"`
}

// Label names a shape as the seed's article does.
func (s Shape) Label() string {
	if s.Window > 0 {
		return fmt.Sprintf("%s tasks, %d producers × %d in flight, %d workers", thousands(s.Cycles), s.Callers, s.Window, s.Workers)
	}
	if s.Callers == 1 {
		return fmt.Sprintf("sequential %s", thousands(s.Cycles))
	}
	return fmt.Sprintf("parallel %d", s.Callers)
}

// Short is the label on the chart's axis.
func (s Shape) Short() string {
	if s.Window > 0 {
		return fmt.Sprintf("%dk tasks", s.Cycles/1000)
	}
	if s.Callers == 1 {
		return fmt.Sprintf("seq %dk", s.Cycles/1000)
	}
	return fmt.Sprintf("par %d", s.Callers)
}

// SeedShapes are the seed's shapes: sequential 10,000, 20,000 and 100,000
// cycles, then 100,000 cycles over 2, 4, 10 and 100 callers.
func SeedShapes() []Shape {
	return []Shape{{Cycles: 10000, Callers: 1}, {Cycles: 20000, Callers: 1}, {Cycles: 100000, Callers: 1}, {Cycles: 100000, Callers: 2}, {Cycles: 100000, Callers: 4}, {Cycles: 100000, Callers: 10}, {Cycles: 100000, Callers: 100}}
}

// Scaled divides every shape's cycles by div (at least one cycle per
// caller), for quick runs.
func Scaled(shapes []Shape, div int) []Shape {
	out := slices.Clone(shapes)
	for i := range out {
		out[i].Cycles = max(out[i].Cycles/div, out[i].Callers)
	}
	return out
}

// share is how many of s.Cycles caller i makes: the remainder goes to the
// first callers.
func (s Shape) share(i int) int {
	n := s.Cycles / s.Callers
	if i < s.Cycles%s.Callers {
		n++
	}
	return n
}

// Topology is where the client, the exchange (or broker) and the
// controller (or server) run.
type Topology string

const (
	// OneNode: client, exchange and controller in one node (for a broker:
	// client and server in one process, the broker beside it).
	OneNode Topology = "one node"
	// ThreeNodes: client node, exchange node and controller node, three OS
	// processes on loopback (for a broker: client, broker, server).
	ThreeNodes Topology = "three nodes"
	// TwoNodes: the exchange on the controller's node, the client on
	// another. A broker has no such shape: its server cannot run inside it.
	TwoNodes Topology = "exchange on the controller's node"
)

// Topologies in the order they run.
var Topologies = []Topology{OneNode, ThreeNodes, TwoNodes}

// Short is the topology on the chart.
func (t Topology) Short() string {
	switch t {
	case OneNode:
		return "one node"
	case ThreeNodes:
		return "three nodes"
	case DurableOne:
		return "durable"
	case DurableReplicated:
		return "replicated"
	}
	return "exchange with controller"
}

// System is a messaging system under test.
type System string

const (
	Switchboard System = "Switchboard"
	RabbitMQ    System = "RabbitMQ"
	NATS        System = "NATS"
	// BareTCP is the floor: the same processes passing 8-byte frames over
	// plain TCP, no framework (see baretcp.go).
	BareTCP System = "bare TCP"
)

// Has reports whether system s has topology t.
func (s System) Has(t Topology) bool {
	if t.durable() {
		return s != BareTCP
	}
	return s == Switchboard || s == BareTCP || t != TwoNodes
}

// rotate is the order the systems run in for the i-th shape: each system
// goes first in turn, so none always runs on a machine warmed (or heated) by
// another.
func rotate(systems []System, i int) []System {
	if len(systems) == 0 {
		return nil
	}
	k := i % len(systems)
	return append(slices.Clone(systems[k:]), systems[:k]...)
}

// Latency holds the percentiles of one shape's cycle times.
type Latency struct {
	P50  time.Duration `json:"p50"`
	P99  time.Duration `json:"p99"`
	P999 time.Duration `json:"p999"`
	Max  time.Duration `json:"max"`
}

// percentiles sorts d and picks the nearest-rank percentiles.
func percentiles(d []time.Duration) Latency {
	if len(d) == 0 {
		return Latency{}
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	at := func(q float64) time.Duration {
		i := int(q*float64(len(d))+0.999999) - 1 // nearest rank: ceil(q·n)-th
		return d[min(max(i, 0), len(d)-1)]
	}
	return Latency{P50: at(0.50), P99: at(0.99), P999: at(0.999), Max: d[len(d)-1]}
}

func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
