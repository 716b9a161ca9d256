package main

import (
	"os/exec"
	"strings"
	"testing"
)

// The durable shapes for real, tiny: Switchboard's durable queue in one
// node and replicated on three OS-process nodes; RabbitMQ with no broker
// listening (every run reported failed with the dial error); NATS
// JetStream R1 and R3 where Debian's nats-server is installed. Every
// task confirmed and acked, CPU per process, the durable table.
func TestHarnessDurable(t *testing.T) {
	cfg := tiny(t, Switchboard, RabbitMQ, NATS, BareTCP)
	cfg.Topologies, cfg.Shapes = nil, nil
	cfg.DurableTopologies = DurableTopologies
	cfg.DurableShapes = []Shape{{Cycles: 300, Callers: 2, Window: 16, Workers: 4, Prefetch: 100}}
	cfg.AMQPURL = "amqp://guest:guest@127.0.0.1:1/" // nothing listens on port 1
	bin, err := exec.LookPath("nats-server")
	if err == nil {
		cfg.NATSServer = bin
	}
	rep := runComparison(cfg)
	if want := 2 * 3; len(rep.Runs) != want { // bare TCP has no durable queue
		t.Fatalf("%d runs; want %d: %+v", len(rep.Runs), want, rep.Runs)
	}
	for _, r := range rep.Runs {
		real := r.System == Switchboard || (r.System == NATS && cfg.NATSServer != "")
		switch {
		case real:
			o := r.Outcome
			if r.Failed() != "" || o.Done != r.Shape.Cycles || o.Completed != r.Shape.Cycles || o.Rate() <= 0 ||
				o.CompletedRate() <= 0 || o.Latency.P50 <= 0 || o.CompletedIn < o.Elapsed {
				t.Errorf("%s %s: %+v", r.Topology, r.System, o)
			}
			if want := map[Topology]int{DurableOne: 1, DurableReplicated: 3}[r.Topology]; r.System == Switchboard && len(r.CPU) != want {
				t.Errorf("%s %s: CPU of %+v; want %d processes", r.Topology, r.System, r.CPU, want)
			}
			if want := map[Topology]int{DurableOne: 2, DurableReplicated: 4}[r.Topology]; r.System == NATS && len(r.CPU) != want {
				t.Errorf("%s %s: CPU of %+v; want %d processes (the servers and the client)", r.Topology, r.System, r.CPU, want)
			}
		case r.System == RabbitMQ:
			if !strings.Contains(r.Failed(), "connection refused") {
				t.Errorf("%s RabbitMQ: %q; want the dial error", r.Topology, r.Failed())
			}
		case r.Failed() == "":
			t.Errorf("%s %s did not fail without a server", r.Topology, r.System)
		}
	}
	md := rep.Markdown("")
	for _, want := range []string{"### Durable tasks: confirmed per second", "| durable, one node | 300 tasks, 2 producers × 16 in flight, 4 workers |",
		"| durable, replicated |", "Switchboard ÷ RabbitMQ", "ahead of RabbitMQ: not met (a run failed)", "≥ 50,000/s", "≥ 20,000/s",
		"not replicated** (no cluster: no -rabbit-script", "completed/s"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "### Cycles per second") {
		t.Errorf("report has the seed's table without its shapes:\n%s", md)
	}
}

func TestDurableVerdict(t *testing.T) {
	s := DurableShapes()[0]
	rep := &Report{}
	rep.Config.Systems = []System{Switchboard, RabbitMQ, NATS}
	rep.Config.DurableTopologies, rep.Config.DurableShapes = DurableTopologies, []Shape{s}
	rep.Runs = []Run{
		run(DurableOne, Switchboard, s, 60000), run(DurableOne, RabbitMQ, s, 5000), run(DurableOne, NATS, s, 70000),
		run(DurableReplicated, Switchboard, s, 15000), run(DurableReplicated, RabbitMQ, s, 5000), run(DurableReplicated, NATS, s, 10000),
	}
	if got, want := rep.durableVerdict(DurableOne, s), "≥ 50,000/s: met; ahead of RabbitMQ: met (12.00×); ahead of NATS: **not met** (0.86×)"; got != want {
		t.Errorf("one node: %q; want %q", got, want)
	}
	if got, want := rep.durableVerdict(DurableReplicated, s), "≥ 20,000/s: **not met**; ahead of RabbitMQ: met (3.00×); ahead of NATS: met (1.50×)"; got != want {
		t.Errorf("replicated: %q; want %q", got, want)
	}
}
