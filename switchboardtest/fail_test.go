package switchboardtest_test

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/patterns"
	"github.com/switchboard-go/switchboard/switchboardtest"
)

func wantFailure(t *testing.T, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Fatalf("failure %q; want it to say %q", got, w)
		}
	}
}

// How the assertions fail: the wrong message, no message, a message where
// there should be none.
func TestProbeFailures(t *testing.T) {
	c := switchboardtest.NewCluster(t, 2)
	probe := switchboardtest.NewProbe(t, c.Node(1))

	wantFailure(t, failure(t, func(tb testing.TB) {
		switchboardtest.Expect[*wrapperspb.StringValue](tb, probe, 20*time.Millisecond)
	}), "got no message within 20ms", "want a *wrapperspb.StringValue")

	// Sent from node 1's own goroutine before ExpectNothing: it has to
	// arrive before the marker from that node.
	if err := c.Node(0).Send(probe.PID(), wrapperspb.Int32(7)); err != nil {
		t.Fatal(err)
	}
	wantFailure(t, failure(t, func(tb testing.TB) {
		switchboardtest.ExpectNothing(tb, probe, 0, c.Node(0))
	}), "got *wrapperspb.Int32Value", "want nothing")

	if err := c.Node(0).Send(probe.PID(), wrapperspb.Int32(8)); err != nil {
		t.Fatal(err)
	}
	wantFailure(t, failure(t, func(tb testing.TB) {
		switchboardtest.Expect[*wrapperspb.StringValue](tb, probe, 0)
	}), "got *wrapperspb.Int32Value", "want a *wrapperspb.StringValue")

	// Markers of the ExpectNothing that failed are not messages.
	if err := c.Node(1).Send(probe.PID(), wrapperspb.String("after")); err != nil {
		t.Fatal(err)
	}
	if v := switchboardtest.Expect[*wrapperspb.StringValue](t, probe, 0); v.GetValue() != "after" {
		t.Fatalf("got %v", v)
	}
	switchboardtest.ExpectNothing(t, probe, 0, c.Node(0), c.Node(1))
}

func TestExpectAnyTimesOut(t *testing.T) {
	c := switchboardtest.NewCluster(t, 1)
	probe := switchboardtest.NewProbe(t, c.Node(0))
	wantFailure(t, failure(t, func(tb testing.TB) {
		switchboardtest.Expect[any](tb, probe, time.Millisecond)
	}), "got no message", "want a message")
}

// How the cluster's waits fail: within the timeout, saying what is missing.
// A cluster's methods fail the test it was made for, so each case makes
// its cluster with the recording t. The cases that run out their timeout
// use one node, which forms its cluster at once, so that a short timeout
// bounds nothing but the wait that must fail.
func TestClusterFailures(t *testing.T) {
	wantFailure(t, failure(t, func(tb testing.TB) { switchboardtest.NewCluster(tb, 0) }), "a cluster of 0 nodes")
	short := func(tb testing.TB) *switchboardtest.Cluster {
		c := switchboardtest.NewCluster(tb, 1, switchboardtest.WithTimeout(100*time.Millisecond))
		if c.Timeout() != 100*time.Millisecond {
			t.Errorf("timeout %v", c.Timeout())
		}
		return c
	}
	start := time.Now()
	wantFailure(t, failure(t, func(tb testing.TB) { short(tb).AwaitExchange("nowhere", 0) }),
		"not within 100ms", `exchange "nowhere" on n1@localhost: not visible from n1@localhost`)
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("a wait of 100 ms took %v", d)
	}
	ex := exchange.Named("nowhere")
	wantFailure(t, failure(t, func(tb testing.TB) {
		short(tb).StartController(0, ex, patterns.NewController(ex, nil))
	}), "not within 100ms", `has not joined exchange "nowhere"`)

	wantFailure(t, failure(t, func(tb testing.TB) { switchboardtest.NewCluster(tb, 2).Node(2) }), "no node 2 in a cluster of 2")
	wantFailure(t, failure(t, func(tb testing.TB) {
		c := switchboardtest.NewCluster(tb, 2)
		c.Stop(1)
		c.StartExchange(1, exchange.Spec{Name: "x"})
	}), "n2@localhost (node 1) is stopped")
	wantFailure(t, failure(t, func(tb testing.TB) { switchboardtest.NewCluster(tb, 1).Restart(0) }), "n1@localhost is up")
}
