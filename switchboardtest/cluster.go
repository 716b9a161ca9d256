package switchboardtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/cluster"
)

// Cluster is an in-process cluster of nodes over loopback, made by
// NewCluster for one test. Node i (from 0) is named "n<i+1>@localhost".
// Its methods are for the test's own goroutine: they fail the test with
// t.Fatal, as helpers do.
type Cluster struct {
	t       testing.TB
	cfg     config
	lockDir string
	nodes   []*actor.Node
	members []*cluster.Cluster
	down    []bool // stopped by Stop or Kill, not restarted
}

// NewCluster starts n nodes in this process, each with a transport on
// 127.0.0.1 (a free port) and a Name of "n1@localhost" to "n<n>@localhost",
// joins them into one cluster with the embedded membership provider
// (cluster.Embedded: nothing to install), and returns once every node sees
// every other as a member. The nodes share a cookie (random unless
// WithCookie) and a lock directory of their own (t.TempDir()), so clusters of
// one test binary, in parallel tests too, know nothing of each other.
//
// t.Cleanup stops the cluster at the end of the test: every node that is
// still up leaves the cluster and stops, in reverse order, each within the
// cluster's timeout; an error on the way (a process that did not stop in
// time) fails the test. Register cleanups that need the nodes (stopping a
// distapp.Coordinator, say) after NewCluster, so that they run first.
func NewCluster(t testing.TB, n int, opts ...Option) *Cluster {
	t.Helper()
	if n < 1 {
		t.Fatalf("switchboardtest: a cluster of %d nodes", n)
	}
	cfg := config{timeout: DefaultTimeout}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.testLog {
		cfg.logger = testLogger(t, cfg.level)
	}
	if cfg.logger == nil {
		cfg.logger = discard()
	}
	if cfg.cookie == "" {
		b := make([]byte, 16)
		_, _ = rand.Read(b) // never fails (crypto/rand)
		cfg.cookie = hex.EncodeToString(b)
	}
	c := &Cluster{
		t:       t,
		cfg:     cfg,
		lockDir: t.TempDir(), // removed after the nodes have stopped
		nodes:   make([]*actor.Node, n),
		members: make([]*cluster.Cluster, n),
		down:    make([]bool, n),
	}
	t.Cleanup(c.stopAll)
	for i := range n {
		c.start(i)
	}
	c.awaitMesh()
	return c
}

// Nodes returns the nodes, node i at index i. A node stopped by Stop or
// Kill stays at its index, stopped, until Restart replaces it.
func (c *Cluster) Nodes() []*actor.Node { return slices.Clone(c.nodes) }

// Node returns node i (from 0: Node(0) is n1@localhost).
func (c *Cluster) Node(i int) *actor.Node {
	c.t.Helper()
	c.check(i)
	return c.nodes[i]
}

// Cluster returns node i's view of the cluster: its members, events
// (OnEvent, MonitorNodes), directory and locks.
func (c *Cluster) Cluster(i int) *cluster.Cluster {
	c.t.Helper()
	c.check(i)
	return c.members[i]
}

// Timeout is the bound of the cluster's waits (DefaultTimeout unless
// WithTimeout).
func (c *Cluster) Timeout() time.Duration { return c.cfg.timeout }

// Stop stops node i cleanly, as a node that is shut down: it leaves the
// cluster (the others see NodeDown at once and its directory entries go),
// then the node stops. Stop returns once every other node that is up no
// longer counts it as a member.
func (c *Cluster) Stop(i int) {
	c.t.Helper()
	c.checkUp(i)
	ctx, cancel := c.ctx()
	defer cancel()
	if err := c.members[i].Leave(ctx); err != nil {
		c.t.Fatalf("switchboardtest: %s leaving the cluster: %v", c.nodes[i].Name(), err)
	}
	if err := c.nodes[i].Stop(ctx); err != nil {
		c.t.Fatalf("switchboardtest: stopping %s: %v", c.nodes[i].Name(), err)
	}
	c.down[i] = true
	c.awaitGone(i)
}

// Kill stops node i without leaving the cluster, as a node that dies: its
// cluster process is killed first (actor.ErrKill: no Terminate), so it says
// no goodbye and withdraws nothing; the others see it gone as they see a
// node that died, and its directory entries vanish with it. Then the node
// stops. Kill returns once every other node that is up no longer counts it
// as a member (they have had their NodeDown event).
//
// In one process nothing stops goroutines from outside, so the node's other
// processes are still shut down in order (their Terminate runs, and what
// they send on the way goes out); for a death that runs no code at all on
// the dying node, run it in an OS process of its own and kill that.
func (c *Cluster) Kill(i int) {
	c.t.Helper()
	c.checkUp(i)
	n := c.nodes[i]
	ctx, cancel := c.ctx()
	defer cancel()
	if pid := n.Whereis(cluster.RegisteredName); pid != nil {
		n.Exit(pid, actor.ErrKill)
		if _, err := n.Wait(ctx, pid); err != nil && !errors.Is(err, actor.ErrNoProcess) {
			c.t.Fatalf("switchboardtest: killing the cluster process of %s: %v", n.Name(), err)
		}
	}
	if err := n.Stop(ctx); err != nil {
		c.t.Fatalf("switchboardtest: stopping %s: %v", n.Name(), err)
	}
	_ = c.members[i].Leave(ctx) // waits for the cluster's goroutines; its provider is gone with the node
	c.down[i] = true
	c.awaitGone(i)
}

// Restart starts node i again after Stop or Kill: a new node of the same
// name at a new address (a new incarnation, seen by the others as NodeUp),
// joined through the nodes that are up. It returns the new node once every
// node that is up sees every other.
func (c *Cluster) Restart(i int) *actor.Node {
	c.t.Helper()
	c.check(i)
	if !c.down[i] {
		c.t.Fatalf("switchboardtest: Restart(%d): %s is up; Stop or Kill it first", i, c.nodes[i].Name())
	}
	c.start(i)
	c.awaitMesh()
	return c.nodes[i]
}

func (c *Cluster) name(i int) string { return fmt.Sprintf("n%d@localhost", i+1) }

func (c *Cluster) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), c.cfg.timeout)
}

func (c *Cluster) check(i int) {
	c.t.Helper()
	if i < 0 || i >= len(c.nodes) {
		c.t.Fatalf("switchboardtest: no node %d in a cluster of %d (nodes count from 0)", i, len(c.nodes))
	}
}

func (c *Cluster) checkUp(i int) {
	c.t.Helper()
	c.check(i)
	if c.down[i] {
		c.t.Fatalf("switchboardtest: %s (node %d) is stopped", c.nodes[i].Name(), i)
	}
}

// up returns the indexes of the nodes that are up.
func (c *Cluster) up() []int {
	var out []int
	for i := range c.nodes {
		if c.nodes[i] != nil && !c.down[i] {
			out = append(out, i)
		}
	}
	return out
}

// start starts node i and joins it through the first node that is up.
func (c *Cluster) start(i int) {
	c.t.Helper()
	name := c.name(i)
	log := c.cfg.logger.With("node", name)
	n, err := actor.Start(actor.Config{
		Name:        name,
		Listen:      "127.0.0.1:0",
		CallTimeout: c.cfg.callTimeout,
		Logger:      log,
		Cookie:      c.cfg.cookie,
	})
	if err != nil {
		c.t.Fatalf("switchboardtest: starting %s: %v", name, err)
	}
	var seeds []string
	if up := c.up(); len(up) > 0 {
		seeds = []string{c.nodes[up[0]].Address()}
	}
	c.nodes[i], c.members[i], c.down[i] = n, nil, false // from here on stopAll stops it
	ctx, cancel := c.ctx()
	defer cancel()
	m, err := cluster.Join(ctx, n, cluster.Config{
		Provider: cluster.Embedded(cluster.EmbeddedConfig{Seeds: seeds, Interval: 100 * time.Millisecond, LockDir: c.lockDir}),
		Logger:   log,
	})
	if err != nil {
		c.t.Fatalf("switchboardtest: %s joining the cluster: %v", name, err)
	}
	c.members[i] = m
}

// stopAll is the cluster's cleanup.
func (c *Cluster) stopAll() {
	for i := len(c.nodes) - 1; i >= 0; i-- {
		n := c.nodes[i]
		if n == nil || c.down[i] {
			continue
		}
		ctx, cancel := c.ctx()
		if m := c.members[i]; m != nil {
			if err := m.Leave(ctx); err != nil {
				c.t.Errorf("switchboardtest: cleanup: %s leaving the cluster: %v", n.Name(), err)
			}
		}
		if err := n.Stop(ctx); err != nil {
			c.t.Errorf("switchboardtest: cleanup: stopping %s: %v", n.Name(), err)
		}
		cancel()
		c.down[i] = true
	}
}

// awaitMesh waits until every node that is up sees every other that is
// up, at its current address.
func (c *Cluster) awaitMesh() {
	c.t.Helper()
	c.await(func() (bool, string) {
		up := c.up()
		for _, j := range up {
			for _, k := range up {
				if m, ok := c.members[j].Member(c.name(k)); !ok || m.Address != c.nodes[k].Address() {
					return false, fmt.Sprintf("%s does not see %s (it sees %s)", c.name(j), c.name(k), memberList(c.members[j]))
				}
			}
		}
		return true, ""
	})
}

// awaitGone waits until no node that is up counts node i, at its old
// address, as a member.
func (c *Cluster) awaitGone(i int) {
	c.t.Helper()
	addr := c.nodes[i].Address()
	c.await(func() (bool, string) {
		for _, j := range c.up() {
			if m, ok := c.members[j].Member(c.name(i)); ok && m.Address == addr {
				return false, fmt.Sprintf("%s still sees %s as a member", c.name(j), c.name(i))
			}
		}
		return true, ""
	})
}

func memberList(m *cluster.Cluster) string {
	var names []string
	for _, mb := range m.Members() {
		names = append(names, mb.Name)
	}
	return "[" + strings.Join(names, " ") + "]"
}

// await polls cond until it holds, for at most the cluster's timeout, and
// fails the test with cond's last word if it never does. It is for state
// that sends no event to wait for (a directory, a member list); the polls
// back off from 1 ms to 20 ms.
func (c *Cluster) await(cond func() (ok bool, why string)) {
	c.t.Helper()
	await(c.t, c.cfg.timeout, cond)
}

func await(t testing.TB, timeout time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	pause := time.Millisecond
	for {
		ok, why := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("switchboardtest: not within %v: %s", timeout, why)
		}
		time.Sleep(pause) // a poll of state with no event to await, bounded by the deadline
		pause = min(2*pause, 20*time.Millisecond)
	}
}
