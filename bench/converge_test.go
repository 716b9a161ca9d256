package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The convergence benchmark at four nodes: every node sees the others,
// the figures are there, and its docs section is replaced without
// touching the results section beside it.
func TestConvergeTiny(t *testing.T) {
	rep := runConverge(ConvergeConfig{Sizes: []int{4}, Provider: "embedded", Seeds: 1,
		Timeout: 30 * time.Second, Idle: 200 * time.Millisecond, Exe: os.Args[0], Progress: io.Discard})
	if len(rep.Runs) != 1 {
		t.Fatalf("runs %+v", rep.Runs)
	}
	r := rep.Runs[0]
	if r.Err != "" || r.SawAll != 4 || r.Converged <= 0 || r.RSSMean == 0 || r.HeapMean == 0 || r.FramesIn == 0 {
		t.Fatalf("run %+v", r)
	}
	md := rep.Markdown()
	if !strings.Contains(md, "| 4 | embedded, 1 seed |") {
		t.Fatalf("markdown:\n%s", md)
	}
	page := filepath.Join(t.TempDir(), "b.md")
	before := "# B\n\n" + beginMark + "\nresults\n" + endMark + "\n\n" + convergeBegin + "\nold\n" + convergeEnd + "\n\nafter\n"
	if err := os.WriteFile(page, []byte(before), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := replaceSection(page, convergeBegin, convergeEnd, md); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(page)
	s := string(b)
	if strings.Contains(s, "\nold\n") || !strings.Contains(s, "\nresults\n") || !strings.Contains(s, md) || !strings.HasSuffix(s, "after\n") {
		t.Fatalf("page after:\n%s", s)
	}
	if err := replaceSection(page, "<!-- nowhere -->", convergeEnd, md); err == nil {
		t.Fatal("a page without the markers was written")
	}
}

// The consul provider of the convergence benchmark, on a dev agent the
// harness runs itself (as make bench-compare does): four nodes converge,
// and the agent's directory is gone after it stops.
func TestConvergeTinyConsul(t *testing.T) {
	bin := os.Getenv("SWITCHBOARD_CONSUL")
	if bin == "" {
		t.Skip("SWITCHBOARD_CONSUL is not set (scripts/test.sh sets it)")
	}
	agent, err := startConsulAgent(bin, 60*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	rep := runConverge(ConvergeConfig{Sizes: []int{4}, Provider: "embedded", Also: []string{"consul"}, Seeds: 1, Consul: agent.addr,
		Timeout: 30 * time.Second, Idle: 200 * time.Millisecond, Exe: os.Args[0], Progress: io.Discard})
	agent.stop()
	if _, err := os.Stat(agent.dir); !os.IsNotExist(err) {
		t.Errorf("the agent's directory %s is still there (%v)", agent.dir, err)
	}
	if len(rep.Runs) != 2 || rep.Runs[1].Provider != "consul" {
		t.Fatalf("runs %+v", rep.Runs)
	}
	for _, r := range rep.Runs {
		if r.Err != "" || r.SawAll != 4 || r.Converged <= 0 {
			t.Fatalf("run %+v", r)
		}
	}
	if md := rep.Markdown(); !strings.Contains(md, "| 4 | consul |") {
		t.Fatalf("markdown:\n%s", md)
	}
}
