package cluster_test

import (
	"errors"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/cluster"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/internal/childtest"
	"github.com/switchboard-go/switchboard/internal/consultest"
	"github.com/switchboard-go/switchboard/patterns"
)

// processKind sets up a provider for a test with nodes in OS processes.
type processKind struct {
	observer func(seed string) cluster.Provider // the test's own node
	env      func(seed string) []string         // a child's
	downIn   time.Duration                      // bound of kill -9 to NodeDown
	fastIn   time.Duration                      // bound of what waits for no failure detection: a call to a killed node failing, a clean stop seen
	agent    *consultest.Agent                  // Consul, to restart; nil if embedded
}

func TestProcessesEmbedded(t *testing.T) {
	processes(t, processKind{
		observer: func(string) cluster.Provider {
			return cluster.Embedded(cluster.EmbeddedConfig{Interval: 100 * time.Millisecond})
		},
		env:    func(seed string) []string { return []string{"SB_SEEDS=" + seed, "SB_CONSUL="} },
		downIn: time.Second, // the connection breaks at once
		// Well before the calls' 5 s deadline.
		fastIn: 3 * time.Second,
	})
}

func TestProcessesConsul(t *testing.T) {
	agent := consultest.Start(t)
	const ttl = 3 * time.Second
	service := "sb-processes"
	processes(t, processKind{
		observer: func(string) cluster.Provider {
			return cluster.Consul(cluster.ConsulConfig{Address: agent.Addr, Service: service, TTL: ttl, Logger: quiet()})
		},
		env: func(string) []string {
			return []string{"SB_CONSUL=" + agent.Addr, "SB_SERVICE=" + service, "SB_TTL=" + ttl.String()}
		},
		downIn: ttl + time.Second,
		fastIn: ttl / 2, // a TTL expires no sooner than 2/3 TTL after the last renewal (every TTL/3)
		agent:  agent,
	})
}

// processes: three nodes as OS processes join and see each other and call
// each other's exchanges by name; kill -9 of one is seen as NodeDown within
// the bound and calls to its exchange fail fast; a clean stop is seen at
// once; a restarted node rejoins; with Consul, Consul restarting mid-test
// crashes no node and membership and the directory recover.
func processes(t *testing.T, k processKind) {
	obs := join(t, startNode(t, "obs@test"), k.observer(""))
	seed := obs.n.Address()
	env := k.env(seed)
	a := startChild(t, "a", env, "b", "c")
	b := startChild(t, "b", env, "a", "c")
	c := startChild(t, "c", env, "a", "b")
	obs.awaitUp(t, 10*time.Second, "a@test", "b@test", "c@test")
	for _, ch := range []*childtest.Child{a, b, c} {
		for _, peer := range []string{"a", "b", "c"} {
			if peer != ch.Name {
				if l := ch.Expect(t, 25*time.Second, "CALL"); l[:5] == "CALLE" {
					t.Fatalf("child %s: %s", ch.Name, l)
				}
			}
		}
	}
	cl := patterns.NewClient(obs.n)
	callAll := func(names ...string) {
		t.Helper()
		for _, name := range names {
			v, err := cl.Call(ctxT(t, 5*time.Second), exchange.Named("ex-"+name), wrapperspb.String("hi"))
			if err != nil || v.(*wrapperspb.StringValue).GetValue() != name {
				t.Fatalf("call ex-%s by name: %v %v", name, v, err)
			}
		}
	}
	callAll("a", "b", "c")

	// kill -9 c.
	killed := time.Now()
	c.Kill()
	start := time.Now()
	_, err := cl.Call(ctxT(t, 5*time.Second), exchange.Named("ex-c"), wrapperspb.String("hi"))
	if !errors.Is(err, actor.ErrNodeDown) && !errors.Is(err, exchange.ErrExchangeNotFound) {
		t.Fatalf("call to the killed node's exchange: %v", err)
	}
	t.Logf("kill -9 to a failed call: %v (bound %v)", time.Since(start), k.fastIn)
	if d := time.Since(start); d > k.fastIn {
		t.Fatalf("call to the killed node's exchange failed after %v, not fast (bound %v)", d, k.fastIn)
	}
	obs.awaitDown(t, k.downIn+2*time.Second, "c@test")
	seen := time.Since(killed)
	t.Logf("kill -9 to NodeDown: %v (bound %v)", seen, k.downIn)
	if seen > k.downIn {
		t.Fatalf("NodeDown %v after kill -9, bound %v", seen, k.downIn)
	}
	a.Expect(t, 5*time.Second, "DOWN c")
	b.Expect(t, 5*time.Second, "DOWN c")
	if _, err := cl.Call(ctxT(t, 5*time.Second), exchange.Named("ex-c"), wrapperspb.String("hi")); !errors.Is(err, exchange.ErrExchangeNotFound) {
		t.Fatalf("call by name after NodeDown: %v", err)
	}

	// A clean stop is seen at once, long before any TTL.
	stopped := time.Now()
	b.CloseStdin()
	obs.awaitDown(t, 5*time.Second, "b@test")
	t.Logf("clean stop to NodeDown: %v (bound %v)", time.Since(stopped), k.fastIn)
	if d := time.Since(stopped); d > k.fastIn {
		t.Fatalf("clean stop seen after %v, not at once (bound %v)", d, k.fastIn)
	}
	b.Stop(t, 15*time.Second)
	a.Expect(t, 5*time.Second, "DOWN b")

	// c comes back.
	c2 := startChild(t, "c", env, "a")
	obs.awaitUp(t, 10*time.Second, "c@test")
	a.Expect(t, 10*time.Second, "UP c")
	c2.Expect(t, 25*time.Second, "CALL ex-a a")
	callAll("a", "c")

	if k.agent == nil {
		return
	}
	// Consul restarts (losing its state): no node crashes, and membership
	// and the directory come back.
	k.agent.Restart()
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, e1 := cl.Call(ctxT(t, time.Second), exchange.Named("ex-a"), wrapperspb.String("hi"))
		_, e2 := cl.Call(ctxT(t, time.Second), exchange.Named("ex-c"), wrapperspb.String("hi"))
		if _, ok := obs.c.Member("a@test"); ok && e1 == nil && e2 == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after Consul restarted: members %v, calls %v %v", names(obs.c.Members()), e1, e2)
		}
		time.Sleep(50 * time.Millisecond) // Consul comes back on its own time; no event to await
	}
	if !a.Alive() || !c2.Alive() {
		t.Fatal("a node died when Consul restarted")
	}
	if got := names(obs.c.Members()); len(got) != 3 {
		t.Fatalf("members after Consul restarted: %v", got)
	}
}

// A node killed and restarted within TTL is seen with its new incarnation
// in place of the old (NodeDown and NodeUp together), never missing: its
// new member record is published before the sessions of the old
// incarnation are destroyed. (Were it missing, however briefly, a caller
// acting on what the restarted node says — a takeover asked of it, say —
// could find it "not a member".)
func TestProcessesConsulRestartWithinTTL(t *testing.T) {
	agent := consultest.Start(t)
	const ttl = 3 * time.Second
	service := "sb-restart-within-ttl"
	obs := join(t, startNode(t, "obs@test"), cluster.Consul(cluster.ConsulConfig{Address: agent.Addr, Service: service, TTL: ttl, Logger: quiet()}))
	env := []string{"SB_CONSUL=" + agent.Addr, "SB_SERVICE=" + service, "SB_TTL=" + ttl.String()}
	c := startChild(t, "c", env)
	obs.awaitUp(t, 10*time.Second, "c@test")
	old, _ := obs.c.Member("c@test")

	// Sample the observer's view every millisecond (the gap, were there
	// one, would last a read of Consul at least) until the new
	// incarnation shows, or the deadline.
	type seen struct {
		missing bool
		inc     int64
	}
	samples := make(chan seen, 1)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		missing := false
		for {
			m, ok := obs.c.Member("c@test")
			missing = missing || !ok
			if ok && m.Incarnation != old.Incarnation {
				samples <- seen{missing, m.Incarnation}
				return
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	killed := time.Now()
	c.Kill()
	startChild(t, "c", env)
	select {
	case s := <-samples:
		t.Logf("kill -9 and restart to the new incarnation seen: %v", time.Since(killed))
		if s.missing {
			t.Fatal("the restarted node was missing from the observer's members for a while")
		}
	case <-time.After(ttl + 10*time.Second):
		t.Fatalf("the new incarnation of c not seen within %v", ttl+10*time.Second)
	}
	obs.rec.await(t, 5*time.Second, "NodeDown of the old incarnation, then NodeUp of the new", func(evs []cluster.Event) bool {
		for i := 1; i < len(evs); i++ {
			if evs[i-1].Kind == cluster.NodeDown && evs[i-1].Member.Incarnation == old.Incarnation &&
				evs[i].Kind == cluster.NodeUp && evs[i].Member.Name == "c@test" && evs[i].Member.Incarnation != old.Incarnation {
				return true
			}
		}
		return false
	})
}
