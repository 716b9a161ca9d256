package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/cluster"
	"github.com/switchboard-go/switchboard/supervisor"
)

// rtNode starts a node on loopback TCP, stopped when the test ends.
func rtNode(t testing.TB, name string) *actor.Node {
	t.Helper()
	n, err := actor.Start(actor.Config{
		Name: name, Listen: "127.0.0.1:0",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = n.Stop(ctx)
	})
	return n
}

func rtCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// rtCluster is three nodes, a@, b@ and c@localhost, each knowing the
// others' addresses by name.
type rtCluster struct {
	nodes map[string]*actor.Node
	addrs map[string]string
}

func newRTCluster(t testing.TB) *rtCluster {
	c := &rtCluster{nodes: map[string]*actor.Node{}, addrs: map[string]string{}}
	for _, name := range []string{"a@localhost", "b@localhost", "c@localhost"} {
		n := rtNode(t, name)
		c.nodes[name], c.addrs[name] = n, n.Address()
	}
	return c
}

func (c *rtCluster) resolve(node string) (string, bool) {
	a, ok := c.addrs[node]
	return a, ok
}

// start starts the router "kv" on node with table; handle defaults to
// echo, which answers "<node>|<key>|<msg>".
func (c *rtCluster) start(t testing.TB, node string, table cluster.Table, handle func(context.Context, string, any) (any, error), maxHops int) {
	t.Helper()
	if handle == nil {
		handle = echo(node)
	}
	spec := cluster.RouterSpec{Name: "kv", Table: table, Resolve: c.resolve, Handle: handle, MaxHops: maxHops}
	if _, err := cluster.StartRouter(rtCtx(t), c.nodes[node], spec); err != nil {
		t.Fatal(err)
	}
}

func echo(node string) func(context.Context, string, any) (any, error) {
	return func(_ context.Context, key string, msg any) (any, error) {
		s, ok := msg.(*wrapperspb.StringValue)
		if !ok {
			return wrapperspb.String(fmt.Sprintf("%s|%s|%T", node, key, msg)), nil
		}
		return wrapperspb.String(node + "|" + key + "|" + s.GetValue()), nil
	}
}

func ranges(t testing.TB, rs ...cluster.Range) *cluster.Ranges {
	t.Helper()
	r, err := cluster.NewRanges(rs...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// all gives every byte to node.
func all(t testing.TB, node string) *cluster.Ranges {
	return ranges(t, cluster.Range{From: 0, To: 0xff, Node: node})
}

func route(t testing.TB, n *actor.Node, key, msg string) (string, error) {
	t.Helper()
	v, err := cluster.Route(rtCtx(t), n, "kv", key, wrapperspb.String(msg))
	if err != nil {
		return "", err
	}
	return v.(*wrapperspb.StringValue).GetValue(), nil
}

// TestRouteAcrossNodes: three nodes with the same table; every key is served
// by its owner, whichever node it is asked on.
func TestRouteAcrossNodes(t *testing.T) {
	c := newRTCluster(t)
	table := ranges(t,
		cluster.Range{From: 'a', To: 'h', Node: "a@localhost"},
		cluster.Range{From: 'i', To: 'p', Node: "b@localhost"},
		cluster.Range{From: 'q', To: 'z', Node: "c@localhost"},
	)
	for name := range c.nodes {
		c.start(t, name, table, nil, 0)
	}
	for _, from := range []string{"a@localhost", "b@localhost", "c@localhost"} {
		for key, owner := range map[string]string{"apple": "a@localhost", "kiwi": "b@localhost", "zebra": "c@localhost"} {
			got, err := route(t, c.nodes[from], key, "from "+from)
			if err != nil {
				t.Fatalf("%s asks for %q: %v", from, key, err)
			}
			if want := owner + "|" + key + "|from " + from; got != want {
				t.Errorf("%s asks for %q: %q; want %q", from, key, got, want)
			}
		}
	}
	// On its own node a request need not be protobuf: it is not encoded.
	v, err := cluster.Route(rtCtx(t), c.nodes["a@localhost"], "kv", "apple", struct{ x int }{1})
	if err != nil || v.(*wrapperspb.StringValue).GetValue() != "a@localhost|apple|struct { x int }" {
		t.Fatalf("local non-protobuf request: %v, %v", v, err)
	}
}

// TestRouteRing routes with consistent hashing: every node has the same ring.
func TestRouteRing(t *testing.T) {
	c := newRTCluster(t)
	ring, err := cluster.NewRing(0, "a@localhost", "b@localhost", "c@localhost")
	if err != nil {
		t.Fatal(err)
	}
	for name := range c.nodes {
		c.start(t, name, ring, nil, 0)
	}
	served := map[string]int{}
	for i := range 60 {
		key := fmt.Sprintf("user:%d", i)
		owner, _ := ring.Owner(key)
		got, err := route(t, c.nodes["a@localhost"], key, "x")
		if err != nil {
			t.Fatal(err)
		}
		if want := owner + "|" + key + "|x"; got != want {
			t.Fatalf("Route(%q) = %q; want %q", key, got, want)
		}
		served[owner]++
	}
	if len(served) != 3 {
		t.Fatalf("60 keys went to %v; want all three nodes", served)
	}
}

// TestRouteReplyBypassesForwarders: a's table says b owns every key, b's
// says c, and c serves. While c is handling the request, b's router is
// killed; the reply still reaches a, so it never went through b. (b's
// node going away fails the request instead: see
// TestRouteFailsFastWhenANodeOnThePathGoes.)
func TestRouteReplyBypassesForwarders(t *testing.T) {
	c := newRTCluster(t)
	arrived := make(chan string, 1)
	release := make(chan struct{})
	c.start(t, "a@localhost", all(t, "b@localhost"), nil, 0)
	c.start(t, "b@localhost", all(t, "c@localhost"), nil, 0)
	c.start(t, "c@localhost", all(t, "c@localhost"), func(ctx context.Context, key string, msg any) (any, error) {
		arrived <- key
		select {
		case <-release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return echo("c@localhost")(ctx, key, msg)
	}, 0)

	type result struct {
		v   string
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := route(t, c.nodes["a@localhost"], "zebra", "hi")
		done <- result{v, err}
	}()
	select {
	case k := <-arrived:
		if k != "zebra" {
			t.Fatalf("c got key %q", k)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the request never reached c")
	}
	b := c.nodes["b@localhost"]
	b.Exit(b.Whereis(cluster.RouterName("kv")), actor.ErrKill)
	close(release)
	select {
	case r := <-done:
		if r.err != nil || r.v != "c@localhost|zebra|hi" {
			t.Fatalf("Route = %q, %v; want c's reply", r.v, r.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no reply")
	}
}

// TestRouteFailsFastWhenANodeOnThePathGoes: a's table says b, b's says c,
// and c's Handle hangs. When b cuts c off (as membership does with a node
// it declared dead; a stopping c would let its Handle answer), b, which
// forwarded to c, answers a with actor.ErrNodeDown; when b's node stops, a,
// which forwarded to b, does: at once, not at the 30 s deadline.
func TestRouteFailsFastWhenANodeOnThePathGoes(t *testing.T) {
	for _, gone := range []string{"c@localhost", "b@localhost"} {
		t.Run(gone, func(t *testing.T) {
			c := newRTCluster(t)
			arrived := make(chan struct{}, 1)
			release := make(chan struct{})
			t.Cleanup(func() { close(release) }) // before the nodes stop
			c.start(t, "a@localhost", all(t, "b@localhost"), nil, 0)
			c.start(t, "b@localhost", all(t, "c@localhost"), nil, 0)
			c.start(t, "c@localhost", all(t, "c@localhost"), func(ctx context.Context, _ string, _ any) (any, error) {
				arrived <- struct{}{}
				select {
				case <-release:
				case <-ctx.Done():
				}
				return nil, errors.New("released")
			}, 0)
			done := make(chan error, 1)
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				_, err := cluster.Route(ctx, c.nodes["a@localhost"], "kv", "zebra", wrapperspb.String("hi"))
				done <- err
			}()
			select {
			case <-arrived:
			case <-time.After(10 * time.Second):
				t.Fatal("the request never reached c")
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			stopped := time.Now()
			if gone == "c@localhost" {
				c.nodes["b@localhost"].Disconnect(c.addrs[gone])
			} else if err := c.nodes[gone].Stop(ctx); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-done:
				t.Logf("Route = %v, %v after %s went", err, time.Since(stopped), gone)
				if !errors.Is(err, actor.ErrNodeDown) || !strings.Contains(err.Error(), c.addrs[gone]) {
					t.Fatalf("Route = %v; want actor.ErrNodeDown naming %s", err, c.addrs[gone])
				}
			case <-time.After(20 * time.Second):
				t.Fatal("Route still waits")
			}
		})
	}
}

// TestRouteLoop: tables that name each other forward a request until
// MaxHops, and the router that would exceed it answers ErrRoutingLoop, on
// the caller's node or on another.
func TestRouteLoop(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tables map[string]string // node -> the owner its table names
		hops   map[string]int    // node -> MaxHops
		remote bool              // the loop is detected on another node
	}{
		{name: "a and b, detected on a", tables: map[string]string{"a@localhost": "b@localhost", "b@localhost": "a@localhost"}},
		{name: "a and b, detected on b", remote: true,
			tables: map[string]string{"a@localhost": "b@localhost", "b@localhost": "a@localhost"},
			hops:   map[string]int{"b@localhost": 1}},
		{name: "a, b, c", remote: true,
			tables: map[string]string{"a@localhost": "b@localhost", "b@localhost": "c@localhost", "c@localhost": "a@localhost"}},
		{name: "b names itself as c", remote: true,
			tables: map[string]string{"a@localhost": "b@localhost", "b@localhost": "c@localhost", "c@localhost": "b@localhost"},
			hops:   map[string]int{"a@localhost": 2, "b@localhost": 3, "c@localhost": 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newRTCluster(t)
			for node, owner := range tc.tables {
				c.start(t, node, all(t, owner), nil, tc.hops[node])
			}
			_, err := route(t, c.nodes["a@localhost"], "k", "x")
			if !errors.Is(err, cluster.ErrRoutingLoop) {
				t.Fatalf("Route = %v; want ErrRoutingLoop", err)
			}
			var re *actor.RemoteError
			if errors.As(err, &re) != tc.remote {
				t.Fatalf("Route = %v (%T); detected remotely: %v, want %v", err, err, !tc.remote, tc.remote)
			}
		})
	}
}

var errBucketMissing = errors.New("kv: bucket missing")

func TestRouteErrors(t *testing.T) {
	c := newRTCluster(t)
	handle := func(node string) func(context.Context, string, any) (any, error) {
		return func(ctx context.Context, key string, msg any) (any, error) {
			switch key {
			case "missing":
				return nil, fmt.Errorf("%w: %s on %s", errBucketMissing, key, node)
			case "panic":
				panic("handler bug")
			case "slow":
				<-ctx.Done()
				return nil, ctx.Err()
			case "plain":
				return struct{}{}, nil // not protobuf: cannot go back to another node
			}
			return echo(node)(ctx, key, msg)
		}
	}
	a, b := c.nodes["a@localhost"], c.nodes["b@localhost"]
	// a: '0'..'9' to a ghost node, 'x' to c (which has no router), the rest to b.
	c.start(t, "a@localhost", ranges(t,
		cluster.Range{From: '0', To: '9', Node: "ghost@nowhere"},
		cluster.Range{From: 'a', To: 'w', Node: "b@localhost"},
		cluster.Range{From: 'x', To: 'x', Node: "c@localhost"},
		cluster.Range{From: 'y', To: 'z', Node: "a@localhost"},
	), handle("a@localhost"), 0)
	// b: owns 'a'..'t'; has no route for 'u'..'w'.
	c.start(t, "b@localhost", ranges(t, cluster.Range{From: 'a', To: 't', Node: "b@localhost"}), handle("b@localhost"), 0)

	for _, tc := range []struct {
		name    string
		timeout time.Duration
		n       *actor.Node
		key     string
		msg     any
		err     error
		remote  bool // the error crossed a node boundary
	}{
		{name: "Handle's error, remote", n: a, key: "missing", err: errBucketMissing, remote: true},
		{name: "Handle's error, local", n: b, key: "missing", err: errBucketMissing},
		{name: "no route on the owner", n: a, key: "u", err: cluster.ErrNoRoute, remote: true},
		{name: "no route here", n: a, key: "{", err: cluster.ErrNoRoute},
		{name: "unknown node", n: a, key: "0", err: cluster.ErrUnresolvedNode},
		{name: "no router on the owner", n: a, key: "x", err: actor.ErrNoProcess},
		{name: "no router here", n: c.nodes["c@localhost"], key: "k", err: actor.ErrNoProcess},
		{name: "empty key", n: a, key: "", err: cluster.ErrEmptyKey},
		{name: "not protobuf", n: a, key: "k", msg: struct{}{}, err: actor.ErrNotSerializable},
		{name: "reply not protobuf", n: a, key: "plain", err: actor.ErrNotSerializable},
		{name: "deadline", timeout: 200 * time.Millisecond, n: a, key: "slow", err: actor.ErrTimeout},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := rtCtx(t)
			if tc.timeout > 0 {
				c, cancel := context.WithTimeout(ctx, tc.timeout)
				defer cancel()
				ctx = c
			}
			msg := tc.msg
			if msg == nil {
				msg = wrapperspb.String("x")
			}
			_, err := cluster.Route(ctx, tc.n, "kv", tc.key, msg)
			if !errors.Is(err, tc.err) {
				t.Fatalf("Route(%q) = %v; want %v", tc.key, err, tc.err)
			}
			var re *actor.RemoteError
			if tc.remote && !errors.As(err, &re) {
				t.Fatalf("Route(%q) = %v (%T); want it from another node", tc.key, err, err)
			}
		})
	}

	// A panic in Handle is the caller's error, and the router lives on.
	_, err := route(t, b, "panic", "x")
	var pe *actor.PanicError
	if !errors.As(err, &pe) || pe.Value != "handler bug" {
		t.Fatalf("local panic: %v", err)
	}
	if _, err := route(t, a, "panic", "x"); err == nil || !strings.Contains(err.Error(), "handler bug") {
		t.Fatalf("remote panic: %v", err)
	}
	if got, err := route(t, a, "kiwi", "still there"); err != nil || got != "b@localhost|kiwi|still there" {
		t.Fatalf("after the panics: %q, %v", got, err)
	}
}

// TestRouterStopWaitsForHandle: stopping a router ends the context of its
// running Handles and returns only when they have returned.
func TestRouterStopWaitsForHandle(t *testing.T) {
	n := rtNode(t, "solo@localhost")
	started := make(chan struct{})
	var mu sync.Mutex
	returned := false
	pid, err := cluster.StartRouter(rtCtx(t), n, cluster.RouterSpec{
		Name:  "kv",
		Table: all(t, "solo@localhost"),
		Handle: func(ctx context.Context, _ string, _ any) (any, error) {
			close(started)
			<-ctx.Done()
			mu.Lock()
			returned = true
			mu.Unlock()
			return nil, ctx.Err()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := cluster.Route(rtCtx(t), n, "kv", "k", nil)
		errc <- err
	}()
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("Handle did not start")
	}
	if err := n.StopProcess(rtCtx(t), pid, nil); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	ok := returned
	mu.Unlock()
	if !ok {
		t.Fatal("the router stopped before its Handle returned")
	}
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Route = %v; want the canceled Handle's error", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no reply")
	}
}

func TestRouterSpec(t *testing.T) {
	n := rtNode(t, "solo@localhost")
	h := echo("solo@localhost")
	tab := all(t, "solo@localhost")
	for _, spec := range []cluster.RouterSpec{
		{Table: tab, Handle: h},
		{Name: "kv", Handle: h},
		{Name: "kv", Table: tab},
		{Name: "kv", Table: tab, Handle: h, MaxHops: -1},
		{Name: "kv", Table: tab, Handle: h, MaxConcurrent: -1},
	} {
		if _, err := cluster.StartRouter(rtCtx(t), n, spec); !errors.Is(err, cluster.ErrInvalidRouterSpec) {
			t.Errorf("StartRouter(%+v) = %v; want ErrInvalidRouterSpec", spec, err)
		}
	}
	spec := cluster.RouterSpec{Name: "kv", Table: tab, Handle: h}
	if _, err := cluster.StartRouter(rtCtx(t), n, spec); err != nil {
		t.Fatal(err)
	}
	if _, err := cluster.StartRouter(rtCtx(t), n, spec); !errors.Is(err, actor.ErrNameTaken) {
		t.Fatalf("a second router of one name: %v; want ErrNameTaken", err)
	}
	if n.Whereis(cluster.RouterName("kv")) == nil {
		t.Fatal("router not registered under RouterName")
	}
}

// crashTable panics on the key "crash": a bug in a Table crashes the router.
type crashTable struct{ cluster.Table }

func (c crashTable) Owner(key string) (string, error) {
	if key == "crash" {
		panic("table bug")
	}
	return c.Table.Owner(key)
}

// TestRouterChildSpec: a router whose Table panics crashes, its caller gets
// the crash as its error, and its supervisor restarts it.
func TestRouterChildSpec(t *testing.T) {
	n := rtNode(t, "solo@localhost")
	spec := cluster.RouterSpec{Name: "kv", Table: crashTable{all(t, "solo@localhost")}, Handle: echo("solo@localhost")}
	sup, err := supervisor.Start(rtCtx(t), n, supervisor.Spec{Children: []supervisor.ChildSpec{cluster.RouterChildSpec(spec)}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = n.StopProcess(ctx, sup, nil)
	})
	if got, err := route(t, n, "k", "1"); err != nil || got != "solo@localhost|k|1" {
		t.Fatalf("Route = %q, %v", got, err)
	}
	first := n.Whereis(cluster.RouterName("kv"))
	downs, cancel := n.Watch(first)
	defer cancel()
	var pe *actor.PanicError
	if _, err := route(t, n, "crash", "x"); !errors.As(err, &pe) {
		t.Fatalf("Route to a crashing table = %v; want the panic", err)
	}
	select {
	case <-downs:
	case <-time.After(10 * time.Second):
		t.Fatal("the router did not exit")
	}
	// The supervisor restarts it after its exit: wait, bounded, for the
	// new process under the name.
	deadline := time.Now().Add(10 * time.Second)
	for p := n.Whereis(cluster.RouterName("kv")); p == nil || p.Equal(first); p = n.Whereis(cluster.RouterName("kv")) {
		if time.Now().After(deadline) {
			t.Fatal("the router was not restarted")
		}
		time.Sleep(time.Millisecond)
	}
	if got, err := route(t, n, "k", "2"); err != nil || got != "solo@localhost|k|2" {
		t.Fatalf("Route after restart = %q, %v", got, err)
	}
}

// BenchmarkRoute measures a request served on the caller's node, and one
// forwarded to another node's router (over loopback TCP) and answered from
// there straight to the caller.
func BenchmarkRoute(b *testing.B) {
	c := newRTCluster(b)
	table := ranges(b,
		cluster.Range{From: 'a', To: 'm', Node: "a@localhost"},
		cluster.Range{From: 'n', To: 'z', Node: "b@localhost"},
	)
	c.start(b, "a@localhost", table, nil, 0)
	c.start(b, "b@localhost", table, nil, 0)
	msg := wrapperspb.String("x")
	for _, bc := range []struct{ name, key string }{{"local", "apple"}, {"forwarded", "zebra"}} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := rtCtx(b)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := cluster.Route(ctx, c.nodes["a@localhost"], "kv", bc.key, msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
