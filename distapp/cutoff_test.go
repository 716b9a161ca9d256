package distapp_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/cluster"
	"github.com/switchboard-go/switchboard/distapp"
	"github.com/switchboard-go/switchboard/internal/consultest"
)

// A node cut off from Consul (its packets dropped, the others still
// reaching Consul) stops its instance within cluster.LossBound(TTL) plus
// LostStopTimeout, before Consul ends its session (TTL after its last
// renewal) and the standby takes the lock and starts the application.
// When Consul is back the cut node stands by.
func TestConsulCutOff(t *testing.T) {
	agent := consultest.Start(t)
	proxy := consultest.NewProxy(t, agent.Addr)
	const ttl = 2 * time.Second
	service := "sb-" + t.Name()
	consul := func(addr string) cluster.Provider {
		return cluster.Consul(cluster.ConsulConfig{Address: addr, Service: service, TTL: ttl, Logger: logger()})
	}
	p := newProbe(t)
	x := startTNode(t, "x@test", consul(proxy.Addr))
	y := startTNode(t, "y@test", consul(agent.Addr))
	spec := func(node string) distapp.Spec {
		return distapp.Spec{Application: svc(p, node), Nodes: [][]string{{"x@test"}, {"y@test"}}}
	}
	if err := x.dc.Start(ctxT(t, 10*time.Second), spec("x@test")); err != nil {
		t.Fatal(err)
	}
	callUntil(t, y.n, 10*time.Second, "x")
	if err := y.dc.Start(ctxT(t, 10*time.Second), spec("y@test")); err != nil {
		t.Fatal(err)
	}
	y.awaitHolder(t, 5*time.Second, "svc", "x@test")

	t.Cleanup(proxy.Restore) // before the nodes stop, even if the test fails
	proxy.Cut()
	cut := time.Now()
	stopped := awaitTrue(t, 2*ttl, "x stops its instance", func() bool { return !x.dc.Running("svc") })
	started := awaitTrue(t, 3*ttl, "y starts it", func() bool { return y.dc.Running("svc") })
	t.Logf("cut off from Consul: x stopped after %v (bound %v + %v), y started after %v (TTL %v)",
		stopped.Sub(cut), cluster.LossBound(ttl), 500*time.Millisecond, started.Sub(cut), ttl)
	if d := stopped.Sub(cut); d >= ttl { // the property itself is in the probe: STOP x before START y
		t.Errorf("x stopped %v after the cut, TTL %v", d, ttl)
	}
	callUntil(t, y.n, 5*time.Second, "y")
	starts := p.check(t) // STOP x comes before START y
	t.Logf("probe:\n%s", strings.Join(p.lines(t), "\n"))
	if !slices.Equal(starts, []string{"x normal", "y failover x"}) {
		t.Fatalf("starts %q", starts)
	}

	// Consul is back: x stands by, the application stays on y.
	proxy.Restore()
	restored := time.Now()
	x.awaitHolder(t, 20*time.Second, "svc", "y@test")
	t.Logf("Consul back: x sees y run it after %v", time.Since(restored))
	if !y.dc.Running("svc") || x.dc.Running("svc") {
		t.Fatalf("after Consul came back: x %v, y %v", x.dc.Running("svc"), y.dc.Running("svc"))
	}
}

// awaitTrue polls cond every 5 ms until it holds, and returns when.
func awaitTrue(t *testing.T, d time.Duration, what string, cond func() bool) time.Time {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(5 * time.Millisecond) // state changes without an event to await
	}
	return time.Now()
}
