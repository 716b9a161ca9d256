package cluster_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/cluster"
)

// Sixteen nodes join through one seed at the same moment: every node sees
// all the others, although most learned of each other only from the seed's
// answer or its Introduce (bench converge measures the same with 100 OS
// processes).
func TestEmbeddedManyJoinAtOnce(t *testing.T) {
	const n = 16
	seed := join(t, startNode(t, "n00@test"), embeddedKind().make(t, ""))
	nodes := make([]*joined, n)
	nodes[0] = seed
	var names []string
	for i := range n {
		names = append(names, fmt.Sprintf("n%02d@test", i))
	}
	started := make([]*joinedNode, n)
	for i := 1; i < n; i++ {
		started[i] = &joinedNode{n: startNode(t, names[i])}
	}
	var wg sync.WaitGroup
	for i := 1; i < n; i++ {
		wg.Add(1)
		go func() { // all at once; errors are checked on the test's goroutine
			defer wg.Done()
			c, err := cluster.Join(ctxT(t, 10*time.Second), started[i].n, cluster.Config{Provider: embeddedKind().make(t, seed.n.Address()), Logger: quiet()})
			started[i].c, started[i].err = c, err
		}()
	}
	wg.Wait()
	start := time.Now()
	for i := 1; i < n; i++ {
		if started[i].err != nil {
			t.Fatal(started[i].err)
		}
		nodes[i] = adopt(t, started[i].n, started[i].c)
	}
	for i, j := range nodes {
		others := append(append([]string{}, names[:i]...), names[i+1:]...)
		j.awaitUp(t, 30*time.Second, others...)
	}
	t.Logf("%d nodes converged %v after the last join", n, time.Since(start))
}

// Two members whose connection breaks while both live (Disconnect, as a
// handshake that times out on a busy machine) see each other down, greet
// each other again and are members again, without their seed's help: each
// knows the other only from the seed, which greets neither anew.
func TestEmbeddedLostPeerGreetedAgain(t *testing.T) {
	a := join(t, startNode(t, "a@test"), embeddedKind().make(t, ""))
	b := join(t, startNode(t, "b@test"), embeddedKind().make(t, a.n.Address()))
	c := join(t, startNode(t, "c@test"), embeddedKind().make(t, a.n.Address()))
	b.awaitUp(t, 10*time.Second, "a@test", "c@test")
	c.awaitUp(t, 10*time.Second, "a@test", "b@test")
	b.n.Disconnect(c.n.Address())
	b.awaitDown(t, 5*time.Second, "c@test")
	b.awaitUp(t, 10*time.Second, "c@test")
	c.awaitUp(t, 10*time.Second, "b@test")
}

type joinedNode struct {
	n   *actor.Node
	c   *cluster.Cluster
	err error
}
