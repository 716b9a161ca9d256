package main

import (
	"bytes"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if role := os.Getenv(envRole); role != "" { // this test binary, re-executed in a role
		os.Exit(runRole(role, os.Stdin, os.Stdout))
	}
	goleak.VerifyTestMain(m)
}

// tiny is the harness at a thousandth of the seed's cycles, re-executing
// the test binary in its roles.
func tiny(t *testing.T, systems ...System) Config {
	return Config{
		Systems:    systems,
		Topologies: Topologies,
		Shapes:     Scaled(SeedShapes(), 1000),
		Warmup:     20,
		Timeout:    30 * time.Second,
		Exe:        os.Args[0],
		ExeArgs:    []string{"-test.run=^$"},
	}
}

// The whole harness, in seconds: every shape in every topology, Switchboard
// and bare TCP for real; RabbitMQ with no broker listening and NATS with no server, so
// every one of their shapes must be reported failed with its error, not
// skipped; the memory roles; the Markdown, the JSON, the chart and the
// docs page.
func TestHarnessTiny(t *testing.T) {
	cfg := tiny(t, Switchboard, RabbitMQ, NATS, BareTCP)
	cfg.AMQPURL = "amqp://guest:guest@127.0.0.1:1/" // nothing listens on port 1
	cfg.IdleActors, cfg.IdleControllers = 200, 200
	cfg.FanOut = FanOutConfig{Nodes: 2, Procs: 10, Tags: 5, Publishes: 2}
	rep := runComparison(cfg)

	if want := len(Topologies) * len(cfg.Shapes) * 4; len(rep.Runs) != want {
		t.Fatalf("%d runs; want %d", len(rep.Runs), want)
	}
	for _, r := range rep.Runs {
		switch {
		case r.System == Switchboard || r.System == BareTCP:
			if r.Failed() != "" || r.Outcome.Done != r.Shape.Cycles || r.Outcome.Rate() <= 0 || r.Outcome.Latency.P50 <= 0 {
				t.Errorf("%s %s: %+v", r.Topology, r.Shape.Label(), r.Outcome)
			}
			if len(r.CPU) == 0 {
				t.Errorf("%s %s: no CPU per process", r.Topology, r.Shape.Label())
			}
		case r.Topology == TwoNodes:
			if r.Absent == "" {
				t.Errorf("%s in %s: %+v; want absent", r.System, r.Topology, r)
			}
		case r.Failed() == "":
			t.Errorf("%s %s %s did not fail without a server", r.System, r.Topology, r.Shape.Label())
		}
	}
	if r, _ := rep.find(OneNode, RabbitMQ, cfg.Shapes[0]); !strings.Contains(r.Failed(), "connection refused") {
		t.Errorf("RabbitMQ's failure = %q; want the dial error", r.Failed())
	}
	if r, _ := rep.find(ThreeNodes, NATS, cfg.Shapes[0]); !strings.Contains(r.Failed(), "nats-server") {
		t.Errorf("NATS's failure = %q", r.Failed())
	}
	if len(rep.Memory) != 2 || rep.Memory[0].HeapBytes <= 0 || rep.Memory[1].HeapBytes <= 0 || len(rep.Errors) != 0 {
		t.Errorf("memory %+v, errors %v", rep.Memory, rep.Errors)
	}
	if f := rep.FanOut; f == nil || len(f.Publishes) != 2 || f.Frames() != 2 || f.Median() <= 0 || rep.FanOutErr != "" {
		t.Errorf("fan-out %+v, error %q", f, rep.FanOutErr)
	}
	if len(rep.RSS) == 0 || rep.RSS[0].RSS == 0 {
		t.Errorf("resident memory %+v", rep.RSS)
	}

	dir := t.TempDir()
	page := filepath.Join(dir, "benchmarks.md")
	if err := os.WriteFile(page, []byte("# B\n\nprose\n\n"+beginMark+"\nold\n"+endMark+"\n\nafter\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	md, err := writeOutputs(rep, filepath.Join(dir, "out"), page)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| one node | sequential 10 |", "**failed**", "Switchboard ÷ RabbitMQ", "Switchboard ÷ NATS", "≥ 1.2× NATS", "µs |", "Erlang seed, published", "idle controller", "5,122.3", "| three nodes | sequential 10 |", "*Bare TCP* is the floor", "### Fan-out", "| 2 |"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	b, _ := os.ReadFile(page)
	if s := string(b); !strings.Contains(s, "prose") || !strings.Contains(s, "after") || strings.Contains(s, "\nold\n") || !strings.Contains(s, "benchmarks.png") {
		t.Errorf("docs page:\n%s", s)
	}
	for _, f := range []string{filepath.Join(dir, "out", "chart.png"), filepath.Join(dir, "benchmarks.png")} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := png.Decode(bytes.NewReader(b)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// NATS for real, where Debian's nats-server is installed (bench/rabbitmq.sh
// install puts it there).
func TestHarnessNATS(t *testing.T) {
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		t.Skip("nats-server not installed")
	}
	cfg := tiny(t, NATS)
	cfg.NATSServer = bin
	cfg.Topologies = []Topology{OneNode, ThreeNodes}
	cfg.Shapes = []Shape{{Cycles: 20, Callers: 1}, {Cycles: 40, Callers: 4}}
	rep := runComparison(cfg)
	if len(rep.Runs) != 4 {
		t.Fatalf("%d runs; want 4", len(rep.Runs))
	}
	for _, r := range rep.Runs {
		if r.Failed() != "" || r.Outcome.Done != r.Shape.Cycles {
			t.Errorf("%s %s: %+v", r.Topology, r.Shape.Label(), r.Outcome)
		}
	}
}

func TestPercentiles(t *testing.T) {
	var d []time.Duration
	for i := 1000; i >= 1; i-- {
		d = append(d, time.Duration(i)*time.Microsecond)
	}
	l := percentiles(d)
	if l.P50 != 500*time.Microsecond || l.P99 != 990*time.Microsecond || l.P999 != 999*time.Microsecond || l.Max != time.Millisecond {
		t.Fatalf("%+v", l)
	}
	if (percentiles(nil) != Latency{}) {
		t.Fatal("empty")
	}
}

func TestShapes(t *testing.T) {
	s := Shape{Cycles: 10, Callers: 4}
	if got := s.share(0) + s.share(1) + s.share(2) + s.share(3); got != 10 || s.share(0) != 3 || s.share(3) != 2 {
		t.Fatalf("shares %d %d", got, s.share(3))
	}
	if got := Scaled(SeedShapes(), 1000000); got[6].Cycles != 100 || got[0].Cycles != 1 {
		t.Fatalf("scaled %v", got)
	}
	if got := rotate([]System{Switchboard, RabbitMQ, NATS}, 4); got[0] != RabbitMQ || got[2] != Switchboard {
		t.Fatalf("rotate %v", got)
	}
	if thousands(1234567) != "1,234,567" || thousands(12) != "12" {
		t.Fatal(thousands(1234567))
	}
}

func TestProcParsing(t *testing.T) {
	stat := []byte("4242 (a (weird) name) S 1 2 3 4 5 6 7 8 9 10 150 50 0 0 20 0 1 0 100 0 0")
	if d, err := parseStatCPU(stat); err != nil || d != 2*time.Second {
		t.Fatalf("%v %v", d, err)
	}
	status := []byte("Name:\tx\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\n")
	if n, err := statusField(status, "VmRSS"); err != nil || n != 1<<20 {
		t.Fatalf("%d %v", n, err)
	}
	if _, err := statusField(status, "VmSwap"); err == nil {
		t.Fatal("missing field found")
	}
	if got := cpuModel([]byte("processor\t: 0\nmodel name\t: Some CPU @ 2GHz\n")); got != "Some CPU @ 2GHz" {
		t.Fatal(got)
	}
	if _, err := readCPU(os.Getpid()); err != nil {
		t.Fatal(err)
	}
	if _, _, err := machineBusy(); err != nil {
		t.Fatal(err)
	}
}
