package inspect_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/cluster"
	"github.com/switchboard-go/switchboard/distapp"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/exchange/pubsub"
	"github.com/switchboard-go/switchboard/exchange/tasks"
	"github.com/switchboard-go/switchboard/inspect"
	"github.com/switchboard-go/switchboard/internal/childtest"
	"github.com/switchboard-go/switchboard/supervisor"
)

// observer is the test's node obs@test, a standby of dapp, with its
// inspector.
func observer(t *testing.T, lockDir string) (*actor.Node, *distapp.Coordinator) {
	t.Helper()
	n, err := actor.Start(actor.Config{Name: "obs@test", Listen: "127.0.0.1:0", Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cl, err := cluster.Join(ctx, n, cluster.Config{Provider: cluster.Embedded(cluster.EmbeddedConfig{Interval: 50 * time.Millisecond, LockDir: lockDir})})
	if err != nil {
		t.Fatal(err)
	}
	apps, err := supervisor.NewAppController(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	dc, err := distapp.NewCoordinator(n, apps)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := inspect.Start(ctx, n, inspect.Sources{Apps: apps, DistApps: dc}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_ = dc.StopAll(ctx)
		_ = apps.StopAll(ctx)
		_ = cl.Leave(ctx)
		_ = n.Stop(ctx)
	})
	return n, dc
}

// eventually retries check until it returns nil, for at most d.
func eventually(t *testing.T, d time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %v", d, err)
		}
		time.Sleep(20 * time.Millisecond) // polling a remote node's state, bounded by the deadline
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestInspectAcrossProcesses: every inspection, from the test's node, of a
// node in another OS process; then kill -9 of that process, and each
// fails with a typed error.
func TestInspectAcrossProcesses(t *testing.T) {
	dir := t.TempDir()
	obs, dc := observer(t, dir)
	child := childtest.Start(t, "child", childEnv+"="+obs.Address(), "SB_LOCKDIR="+dir)
	addr := strings.TrimPrefix(child.Expect(t, 30*time.Second, "READY "), "READY ")
	// obs is dapp's standby once child runs it.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := dc.Start(ctx, dapp()); err != nil {
		t.Fatal(err)
	}

	// Nodes, their applications, exchanges and distributed applications.
	var info inspect.NodeInfo
	eventually(t, 10*time.Second, func() error {
		infos, err := inspect.Nodes(ctx, obs)
		if err != nil {
			return err
		}
		if len(infos) != 2 {
			return fmt.Errorf("%d nodes", len(infos))
		}
		i := slices.IndexFunc(infos, func(n inspect.NodeInfo) bool { return n.Name == "child@test" })
		if i < 0 {
			return fmt.Errorf("no child among %v", infos)
		}
		info = infos[i]
		if len(info.Distributed) != 1 || info.Distributed[0].RunningOn != "child@test" || !slices.Equal(info.Distributed[0].Standbys, []string{"obs@test"}) {
			return fmt.Errorf("distributed %+v", info.Distributed)
		}
		var appNames []string
		for _, a := range info.Applications {
			appNames = append(appNames, a.Name)
		}
		if !slices.Equal(appNames, []string{"shop", "dapp"}) { // dapp starts once it is seen running
			return fmt.Errorf("applications %v", appNames)
		}
		return nil
	})
	if info.Address != addr || !info.Joined || len(info.Members) != 2 || info.Processes < 10 || info.Distributed[0].Phase != "running" {
		t.Fatalf("child's info %+v", info)
	}
	kinds := map[string]string{}
	for _, e := range info.Exchanges {
		kinds[e.Name] = e.Kind
	}
	if fmt.Sprint(kinds) != "map[jobs:tasks news:pubsub news-edge:pubsub orders:request-response]" {
		t.Fatalf("exchanges %v", kinds)
	}
	if _, ok := info.Counters["bad_frames"]; !ok {
		t.Fatalf("counters %v", info.Counters)
	}

	// The supervision tree, with a restart.
	if err := obs.Cast(actor.NamedPID(addr, "crasher"), wrapperspb.String("boom")); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() error {
		trees, err := inspect.Trees(ctx, obs, addr)
		if err != nil {
			return err
		}
		if len(trees) != 2 || trees[0].App.Name != "shop" {
			return fmt.Errorf("trees %+v", trees)
		}
		root := trees[0].Tree
		var ids []string
		for _, c := range root.Children {
			ids = append(ids, c.ID)
		}
		if strings.Join(ids, ",") != "exchange:orders,orders-controller,exchange:news,exchange:news-edge,tasks:jobs,jobs-worker,inner" {
			return fmt.Errorf("children %v", ids)
		}
		inner := root.Children[6]
		if inner.Type != supervisor.TypeSupervisor || len(inner.Children) != 2 || inner.Children[1].ID != "crasher" {
			return fmt.Errorf("inner %+v", inner)
		}
		if inner.SupRestarts != 1 || inner.Children[1].Restarts != 1 || inner.Children[0].Restarts != 0 || root.SupRestarts != 0 {
			return fmt.Errorf("restarts: inner %d, crasher %d, counter %d, root %d", inner.SupRestarts, inner.Children[1].Restarts, inner.Children[0].Restarts, root.SupRestarts)
		}
		return nil
	})

	// A request-response exchange.
	ex, err := exchange.Inspect(ctx, obs, exchange.At(addr, "orders"))
	if err != nil {
		t.Fatal(err)
	}
	if ex.Name != "orders" || ex.Strategy != exchange.RoundRobin || len(ex.Members) != 1 || ex.Members[0].PID.Address != addr {
		t.Fatalf("orders: %+v", ex)
	}

	// Pub-sub: subscriptions, and the proxy's upstream.
	news, err := pubsub.Describe(ctx, obs, exchange.At(addr, "news"))
	if err != nil {
		t.Fatal(err)
	}
	if news.Stats.Subscriptions != 2 || len(news.Subscriptions) != 2 || news.Upstream.Name != "" {
		t.Fatalf("news: %+v", news)
	}
	patternsSeen := []string{news.Subscriptions[0].Pattern + "/" + news.Subscriptions[0].Tag, news.Subscriptions[1].Pattern + "/" + news.Subscriptions[1].Tag}
	slices.Sort(patternsSeen)
	if strings.Join(patternsSeen, ",") != "a.*/t,b.#/" { // the subscriber's, and the proxy's upstream one
		t.Fatalf("news subscriptions %v", patternsSeen)
	}
	edge, err := pubsub.Describe(ctx, obs, exchange.At(addr, "news-edge"))
	if err != nil {
		t.Fatal(err)
	}
	if edge.Upstream.Name != "news" || edge.UpstreamPID == nil || !slices.Equal(edge.UpstreamPatterns, []string{"b.#"}) || len(edge.Subscriptions) != 1 {
		t.Fatalf("news-edge: %+v", edge)
	}

	// A task queue: depth, in flight, workers with their prefetch.
	eventually(t, 10*time.Second, func() error {
		st, err := tasks.Inspect(ctx, obs, exchange.At(addr, "jobs"))
		if err != nil {
			return err
		}
		ws, err := tasks.Workers(ctx, obs, exchange.At(addr, "jobs"))
		if err != nil {
			return err
		}
		if st.Ready != 2 || st.InFlight != 3 || st.Workers != 1 || len(ws) != 1 || ws[0].Prefetch != 3 || ws[0].InFlight != 3 || ws[0].PID.Address != addr {
			return fmt.Errorf("jobs: %+v, workers %+v", st, ws)
		}
		return nil
	})

	// A process's own state (its Inspector).
	pi, err := obs.InspectProcess(ctx, actor.NamedPID(addr, "counter"))
	if err != nil {
		t.Fatal(err)
	}
	if pi.Name != "counter" || pi.State["casts"] != "3" || !strings.Contains(pi.Server, "counter") || pi.Parent == nil || pi.Links != 1 {
		t.Fatalf("counter: %+v", pi)
	}

	// Wrong kinds and missing names.
	if _, err := exchange.Inspect(ctx, obs, exchange.At(addr, "news")); !errors.Is(err, exchange.ErrWrongKind) {
		t.Fatalf("pub-sub inspected as request-response: %v", err)
	}
	if _, err := pubsub.Describe(ctx, obs, exchange.At(addr, "orders")); !errors.Is(err, exchange.ErrWrongKind) {
		t.Fatalf("request-response described as pub-sub: %v", err)
	}
	if _, err := tasks.Workers(ctx, obs, exchange.At(addr, "orders")); !errors.Is(err, tasks.ErrNotTaskQueue) {
		t.Fatalf("workers of a request-response exchange: %v", err)
	}
	for _, f := range []func() error{
		func() error { _, err := exchange.Inspect(ctx, obs, exchange.At(addr, "nope")); return err },
		func() error { _, err := pubsub.Describe(ctx, obs, exchange.At(addr, "nope")); return err },
		func() error { _, err := tasks.Workers(ctx, obs, exchange.At(addr, "nope")); return err },
	} {
		if err := f(); !errors.Is(err, exchange.ErrExchangeNotFound) {
			t.Fatalf("missing exchange: %v", err)
		}
	}
	if _, err := obs.InspectProcess(ctx, actor.NamedPID(addr, "nobody")); !errors.Is(err, actor.ErrNoProcess) {
		t.Fatalf("missing process: %v", err)
	}

	// kill -9: every inspection of the gone node fails, typed.
	sup := info.Applications[0].Supervisor
	if err := child.Cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() error {
		if _, err := inspect.Node(ctx, obs, addr); !errors.Is(err, actor.ErrNodeDown) {
			return fmt.Errorf("node after kill -9: %v", err)
		}
		return nil
	})
	for what, f := range map[string]func() error{
		"tree":     func() error { _, err := inspect.SupervisionTree(ctx, obs, sup); return err },
		"exchange": func() error { _, err := exchange.Inspect(ctx, obs, exchange.At(addr, "orders")); return err },
		"pubsub":   func() error { _, err := pubsub.Describe(ctx, obs, exchange.At(addr, "news")); return err },
		"tasks":    func() error { _, err := tasks.Inspect(ctx, obs, exchange.At(addr, "jobs")); return err },
		"workers":  func() error { _, err := tasks.Workers(ctx, obs, exchange.At(addr, "jobs")); return err },
		"process":  func() error { _, err := obs.InspectProcess(ctx, actor.NamedPID(addr, "counter")); return err },
	} {
		if err := f(); !errors.Is(err, actor.ErrNodeDown) {
			t.Errorf("%s after kill -9: %v", what, err)
		}
	}
	// The cluster forgets it: Nodes lists obs alone.
	eventually(t, 10*time.Second, func() error {
		infos, err := inspect.Nodes(ctx, obs)
		if err != nil || len(infos) != 1 || infos[0].Name != "obs@test" {
			return fmt.Errorf("nodes after kill -9: %v, %v", infos, err)
		}
		return nil
	})
}

// TestNoInspector: a node that answers but runs no inspector.
func TestNoInspector(t *testing.T) {
	a, err := actor.Start(actor.Config{Name: "a@test", Listen: "127.0.0.1:0", Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	b, err := actor.Start(actor.Config{Name: "b@test", Listen: "127.0.0.1:0", Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Stop(context.Background()); _ = b.Stop(context.Background()) })
	if _, err := inspect.Node(ctxT(t), a, b.Address()); !errors.Is(err, inspect.ErrNoInspector) {
		t.Fatalf("a node without an inspector: %v", err)
	}
	if _, err := inspect.Start(ctxT(t), b, inspect.Sources{}); err != nil {
		t.Fatal(err)
	}
	info, err := inspect.Node(ctxT(t), a, b.Address())
	if err != nil || info.Name != "b@test" || info.Joined || len(info.Applications) != 0 {
		t.Fatalf("a bare node: %+v, %v", info, err)
	}
	infos, err := inspect.Nodes(ctxT(t), b) // no cluster: itself
	if err != nil || len(infos) != 1 {
		t.Fatalf("Nodes without a cluster: %+v, %v", infos, err)
	}
}
