package cluster_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/cluster"
)

// A ring that follows membership and routers that resolve owners through
// the cluster: every key is served by its owner from every node, and when
// a fourth node joins, about a quarter of the keys move, all to it.
func TestRoutingFollowsMembership(t *testing.T) {
	k := embeddedKind()
	var nodes []*joined
	rings := map[string]*cluster.Ring{}
	add := func(name string) *joined {
		seed := ""
		if len(nodes) > 0 {
			seed = nodes[0].n.Address()
		}
		j := join(t, startNode(t, name), k.make(t, seed))
		ring, err := cluster.NewRing(0)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(j.c.FollowMembers(ring))
		rings[name] = ring
		_, err = cluster.StartRouter(ctxT(t, 5*time.Second), j.n, cluster.RouterSpec{Name: "kv", Table: ring,
			Handle: func(_ context.Context, key string, _ any) (any, error) { return wrapperspb.String(name), nil }})
		if err != nil {
			t.Fatal(err)
		}
		nodes = append(nodes, j)
		return j
	}
	for _, name := range []string{"a@test", "b@test", "c@test"} {
		add(name)
	}
	awaitRings := func(n int) {
		t.Helper()
		for _, j := range nodes {
			var all []string
			for _, o := range nodes {
				all = append(all, o.n.Name())
			}
			j.awaitUp(t, 10*time.Second, all...)
		}
		// The rings follow on the event goroutine, after the members.
		deadline := time.Now().Add(5 * time.Second)
		for name, r := range rings {
			for len(r.Nodes()) != n {
				if time.Now().After(deadline) {
					t.Fatalf("ring of %s has %v", name, r.Nodes())
				}
				time.Sleep(time.Millisecond)
			}
		}
	}
	awaitRings(3)
	keys := make([]string, 2000)
	before := map[string]string{}
	for i := range keys {
		keys[i] = "key-" + string(rune('a'+i%26)) + time.Duration(i).String()
		before[keys[i]], _ = rings["a@test"].Owner(keys[i])
	}
	for _, j := range nodes {
		for _, key := range keys[:100] {
			v, err := cluster.Route(ctxT(t, 5*time.Second), j.n, "kv", key, wrapperspb.String("get"))
			if err != nil {
				t.Fatalf("route %q from %s: %v", key, j.n.Name(), err)
			}
			if got := v.(*wrapperspb.StringValue).GetValue(); got != before[key] {
				t.Fatalf("key %q served by %s, owner %s", key, got, before[key])
			}
		}
	}
	add("d@test")
	awaitRings(4)
	moved := 0
	for _, key := range keys {
		owner, _ := rings["b@test"].Owner(key)
		if owner != before[key] {
			moved++
			if owner != "d@test" {
				t.Fatalf("key %q moved from %s to %s, not to the new node", key, before[key], owner)
			}
		}
	}
	frac := float64(moved) / float64(len(keys))
	t.Logf("keys moved when a fourth node joined: %.1f%%", 100*frac)
	if frac < 0.15 || frac > 0.35 {
		t.Fatalf("moved %.1f%% of the keys, want about 25%%", 100*frac)
	}
}
