package cluster_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/cluster"
)

// providerKind makes providers for the shared membership tests.
type providerKind struct {
	name string
	// make returns the provider of a node; seed is the first node's address.
	make func(t testing.TB, seed string) cluster.Provider
}

func embeddedKind() providerKind {
	return providerKind{"embedded", func(t testing.TB, seed string) cluster.Provider {
		var seeds []string
		if seed != "" {
			seeds = []string{seed}
		}
		return cluster.Embedded(cluster.EmbeddedConfig{Seeds: seeds, Interval: 100 * time.Millisecond})
	}}
}

func TestEmbeddedMembership(t *testing.T) { membership(t, embeddedKind()) }

func TestEmbeddedDirectory(t *testing.T) { directory(t, embeddedKind()) }

// membership: three nodes join and see each other; a clean leave is seen at
// once; a node that stops without leaving is seen down; a restarted node is
// seen up again.
func membership(t *testing.T, k providerKind) {
	a := join(t, startNode(t, "a@test"), k.make(t, ""))
	seed := a.n.Address()
	b := join(t, startNode(t, "b@test"), k.make(t, seed))
	cn := startNode(t, "c@test")
	c := join(t, cn, k.make(t, seed))
	for _, j := range []*joined{a, b, c} {
		others := slices.DeleteFunc([]string{"a@test", "b@test", "c@test"}, func(s string) bool { return s == j.n.Name() })
		j.awaitUp(t, 10*time.Second, others...)
	}
	if got := names(a.c.Members()); !slices.Equal(got, []string{"a@test", "b@test", "c@test"}) {
		t.Fatalf("members of a: %v", got)
	}
	// A clean leave.
	if err := b.c.Leave(ctxT(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	a.awaitDown(t, 5*time.Second, "b@test")
	c.awaitDown(t, 5*time.Second, "b@test")
	if err := b.c.Leave(ctxT(t, time.Second)); err != nil {
		t.Fatalf("second Leave: %v", err)
	}
	if _, err := b.c.Lookup(ctxT(t, time.Second), "x"); !errors.Is(err, cluster.ErrNotFound) {
		t.Fatalf("lookup after leave: %v", err)
	}
	// Back again as a new incarnation.
	b2 := join(t, startNode(t, "b@test"), k.make(t, seed))
	a.awaitUp(t, 10*time.Second, "b@test")
	b2.awaitUp(t, 10*time.Second, "a@test", "c@test")
}

// directory: names published on one node are found from the others, the
// asking node's own entry first, the newest otherwise; a withdrawn name and
// the names of a node that leaves are gone.
func directory(t *testing.T, k providerKind) {
	a := join(t, startNode(t, "a@test"), k.make(t, ""))
	b := join(t, startNode(t, "b@test"), k.make(t, a.n.Address()))
	a.awaitUp(t, 10*time.Second, "b@test")
	b.awaitUp(t, 10*time.Second, "a@test")
	ctx := ctxT(t, 10*time.Second)
	if err := a.c.Register(ctx, "orders"); err != nil {
		t.Fatal(err)
	}
	if err := a.c.Register(ctx, "bad/name"); !errors.Is(err, cluster.ErrInvalidName) {
		t.Fatalf("publish bad name: %v", err)
	}
	awaitEntry(t, b.c, "orders", "a@test")
	if err := b.c.Register(ctx, "orders"); err != nil {
		t.Fatal(err)
	}
	// Each finds its own first.
	if e, err := b.c.Lookup(ctx, "orders"); err != nil || e.Node != "b@test" {
		t.Fatalf("b's lookup: %+v %v", e, err)
	}
	awaitEntry(t, a.c, "orders", "a@test")
	if _, err := a.c.Lookup(ctx, "nothing"); !errors.Is(err, cluster.ErrNotFound) {
		t.Fatalf("lookup of a missing name: %v", err)
	}
	// a withdraws: a now finds b's, the newest remaining.
	if err := a.c.Unregister(ctx, "orders"); err != nil {
		t.Fatal(err)
	}
	awaitEntry(t, a.c, "orders", "b@test")
	// b leaves: its names go with it.
	if err := b.c.Leave(ctx); err != nil {
		t.Fatal(err)
	}
	a.awaitDown(t, 5*time.Second, "b@test")
	if e, err := a.c.Lookup(ctx, "orders"); !errors.Is(err, cluster.ErrNotFound) {
		t.Fatalf("lookup after the owner left: %+v %v", e, err)
	}
}

// awaitEntry waits until c's lookup of name finds it on node.
func awaitEntry(t testing.TB, c *cluster.Cluster, name, node string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		e, err := c.Lookup(ctxT(t, time.Second), name)
		if err == nil && e.Node == node {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("lookup of %q from %s: %+v %v, want node %s", name, c.Self().Name, e, err, node)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
