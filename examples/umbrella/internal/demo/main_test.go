package demo

import (
	"context"
	"io"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/switchboard-go/switchboard/examples/umbrella/internal/statuspb"
	"github.com/switchboard-go/switchboard/examples/umbrella/node"
)

// The test binary is the nodes' binary too: started again with "node" as
// its first argument, it runs a node of the umbrella (as the demo's own
// binary does), never the tests.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "node" {
		os.Exit(node.Main(os.Args[2:]))
	}
	goleak.VerifyTestMain(m) // the rig's clients, load and node end with it
}

// startTestRig starts the release (2 core, 3 worker, 2 access nodes, each
// an OS process) with clients WebSocket clients per access node, and
// stops it at the test's end.
func startTestRig(t *testing.T, clients int) *rig {
	t.Helper()
	c, err := Config{Clients: clients, Out: io.Discard, Exe: os.Args[0]}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	dir, err := os.MkdirTemp("", "umbrella-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // the nodes' logs stay when the test failed
		if t.Failed() {
			t.Logf("the nodes' logs are in %s", dir)
			return
		}
		_ = os.RemoveAll(dir)
	})
	r, err := startRig(ctx, c, dir)
	if r != nil {
		t.Cleanup(func() {
			if unclean, alive := r.shutdown(); len(unclean) > 0 || alive > 0 {
				t.Errorf("nodes killed at the shutdown: %v; alive after it: %d", unclean, alive)
			}
		})
	}
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// eventually polls cond every 10 ms until it holds, failing the test
// after d with what the last try said.
func eventually(t *testing.T, d time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		ok, last := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v; last: %s", what, d, last)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// statusesNow asks every node that is up for its status.
func statusesNow(r *rig) map[string]*statuspb.Status {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	return r.statuses(ctx)
}
