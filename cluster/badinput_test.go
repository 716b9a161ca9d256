package cluster_test

import (
	"errors"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"google.golang.org/protobuf/proto"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/cluster"
	"github.com/switchboard-go/switchboard/internal/clusterpb"
	"github.com/switchboard-go/switchboard/internal/consultest"
)

// awaitRejected waits until c has rejected at least n inputs.
func awaitRejected(t *testing.T, c *cluster.Cluster, n uint64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for c.Stats().Rejected < n {
		if time.Now().After(deadline) {
			t.Fatalf("rejected %d inputs, want %d", c.Stats().Rejected, n)
		}
		time.Sleep(time.Millisecond) // the input travels to the cluster process; nothing to await
	}
}

// Malformed greetings and entries from another node are ignored and
// counted; the node keeps its members and keeps running.
func TestEmbeddedBadInput(t *testing.T) {
	a := join(t, startNode(t, "a@test"), embeddedKind().make(t, ""))
	b := join(t, startNode(t, "b@test"), embeddedKind().make(t, a.n.Address()))
	a.awaitUp(t, 10*time.Second, "b@test")
	to := actor.NamedPID(a.n.Address(), cluster.RegisteredName)
	for _, bad := range []any{
		&clusterpb.Hello{From: &clusterpb.NodeInfo{Name: "", Address: "x"}},
		&clusterpb.Hello{From: &clusterpb.NodeInfo{Name: "evil/name", Address: "127.0.0.1:1"}},
		&clusterpb.Hello{},
	} {
		if err := b.n.Send(to, bad); err != nil {
			t.Fatal(err)
		}
	}
	awaitRejected(t, a.c, 3)
	// b's own greeting and entries reach a before what follows (one
	// connection, in order): wait for them, or they would replace the
	// entries sent next.
	if err := b.c.Register(ctxT(t, time.Second), "real"); err != nil {
		t.Fatal(err)
	}
	awaitEntry(t, a.c, "real", "b@test")
	// b claims a name on another node: dropped, the rest kept.
	self := &clusterpb.NodeInfo{Name: "b@test", Address: b.n.Address(), Started: b.c.Self().Incarnation}
	if err := b.n.Send(to, &clusterpb.Entries{From: self, Entries: []*clusterpb.DirEntry{
		{Name: "stolen", Node: "a@test", Address: a.n.Address()},
		{Name: "ok", Node: "b@test", Address: b.n.Address()},
	}}); err != nil {
		t.Fatal(err)
	}
	awaitRejected(t, a.c, 4)
	awaitEntry(t, a.c, "ok", "b@test")
	// b introduces members with bad names or no address: counted, nobody
	// greeted; an introduction from a node that is no member is ignored.
	if err := b.n.Send(to, &clusterpb.Introduce{From: self, Known: []*clusterpb.NodeInfo{
		{Name: "evil/name", Address: "127.0.0.1:1"}, {Name: "x@test"}, nil,
	}}); err != nil {
		t.Fatal(err)
	}
	awaitRejected(t, a.c, 7)
	if err := b.n.Send(to, &clusterpb.Introduce{From: &clusterpb.NodeInfo{Name: "stranger@test", Address: "127.0.0.1:1"}, Known: []*clusterpb.NodeInfo{{Name: "bad/"}}}); err != nil {
		t.Fatal(err)
	}
	if err := b.c.Register(ctxT(t, time.Second), "after"); err != nil { // behind the introduction, on one connection
		t.Fatal(err)
	}
	awaitEntry(t, a.c, "after", "b@test")
	if got := a.c.Stats().Rejected; got != 7 {
		t.Fatalf("rejected %d inputs, want 7: a stranger's introduction was read", got)
	}
	if _, err := a.c.Lookup(ctxT(t, time.Second), "stolen"); !errors.Is(err, cluster.ErrNotFound) {
		t.Fatalf("a stolen entry was believed: %v", err)
	}
	if got := names(a.c.Members()); len(got) != 2 {
		t.Fatalf("members after bad input: %v", got)
	}
}

// A directory entry in Consul KV that does not decode is ignored and
// counted.
func TestConsulBadEntry(t *testing.T) {
	agent := consultest.Start(t)
	p := cluster.Consul(cluster.ConsulConfig{Address: agent.Addr, Service: "bad", Logger: quiet()})
	a := join(t, startNode(t, "a@test"), p)
	if _, err := agent.Client.KV().Put(&api.KVPair{Key: "switchboard/bad/names/x/a@test", Value: []byte{0xff, 0x01}}, nil); err != nil {
		t.Fatal(err)
	}
	awaitRejected(t, a.c, 1)
	if _, err := a.c.Lookup(ctxT(t, time.Second), "x"); !errors.Is(err, cluster.ErrNotFound) {
		t.Fatalf("garbage entry found: %v", err)
	}
}

// Member records in Consul KV that do not decode, do not match their key
// or are held by no session are ignored and counted: the members stay
// those that joined.
func TestConsulBadMemberRecord(t *testing.T) {
	agent := consultest.Start(t)
	p := cluster.Consul(cluster.ConsulConfig{Address: agent.Addr, Service: "badm", Logger: quiet()})
	a := join(t, startNode(t, "a@test"), p)
	record, err := proto.Marshal(&clusterpb.NodeInfo{Name: "y@test", Address: "127.0.0.1:1", Started: 5})
	if err != nil {
		t.Fatal(err)
	}
	for key, value := range map[string][]byte{
		"switchboard/badm/members/x@test/1": {0xff, 0x01}, // garbage
		"switchboard/badm/members/y@test/5": record,       // no session
		"switchboard/badm/members/z@test/5": record,       // another node's key
	} {
		if _, err := agent.Client.KV().Put(&api.KVPair{Key: key, Value: value}, nil); err != nil {
			t.Fatal(err)
		}
	}
	awaitRejected(t, a.c, 3)
	if got := names(a.c.Members()); len(got) != 1 || got[0] != "a@test" {
		t.Fatalf("members after bad records: %v", got)
	}
}

// A node that stops without leaving leaves by itself: Leave afterwards
// returns at once and nothing is left running (goleak checks).
func TestStopWithoutLeave(t *testing.T) {
	n := startNode(t, "a@test")
	c, err := cluster.Join(ctxT(t, 5*time.Second), n, cluster.Config{Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Stop(ctxT(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_ = c.Leave(ctxT(t, 5*time.Second))
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Leave after the node stopped took %v", d)
	}
	if cluster.From(n) != nil {
		t.Fatal("the stopped node still has its cluster")
	}
}

// A node with seeds but no transport is a configuration error.
func TestEmbeddedNeedsTransport(t *testing.T) {
	n, err := actor.Start(actor.Config{Name: "local@test", Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop(ctxT(t, 5*time.Second))
	_, err = cluster.Join(ctxT(t, 5*time.Second), n, cluster.Config{Provider: cluster.Embedded(cluster.EmbeddedConfig{Seeds: []string{"127.0.0.1:1"}})})
	if !errors.Is(err, cluster.ErrConfig) {
		t.Fatalf("join without transport: %v", err)
	}
	if _, err := cluster.Join(ctxT(t, 5*time.Second), n, cluster.Config{Provider: cluster.Consul(cluster.ConsulConfig{Address: "127.0.0.1:1"})}); !errors.Is(err, cluster.ErrConfig) {
		t.Fatalf("consul join without transport: %v", err)
	}
}
