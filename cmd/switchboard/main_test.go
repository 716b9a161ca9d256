package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/exchange/pubsub"
	"github.com/switchboard-go/switchboard/exchange/tasks"
	"github.com/switchboard-go/switchboard/inspect"
	"github.com/switchboard-go/switchboard/patterns"
	"github.com/switchboard-go/switchboard/supervisor"
	"github.com/switchboard-go/switchboard/switchboardtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const cookie = "sesame"

// cluster is two nodes with the cookie, each with its inspector: n1 runs
// the application shop (the exchange orders and its controller), the
// pub-sub exchange news with a subscriber and the queue jobs with a worker
// holding its tasks; n2 runs a second controller of orders.
func cluster(t *testing.T) *switchboardtest.Cluster {
	tc := switchboardtest.NewCluster(t, 2, switchboardtest.WithCookie(cookie))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	n1, n2 := tc.Node(0), tc.Node(1)
	apps, err := supervisor.NewAppController(ctx, n1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = apps.StopAll(context.Background()) })
	for _, n := range []*actor.Node{n1, n2} {
		src := inspect.Sources{}
		if n == n1 {
			src.Apps = apps
		}
		if _, err := inspect.Start(ctx, n, src); err != nil {
			t.Fatal(err)
		}
	}
	ok := func(context.Context, *exchange.Request) (any, error) { return wrapperspb.String("ok"), nil }
	if err := apps.Load(supervisor.Application{Name: "shop", Start: func(ctx context.Context, n *actor.Node, _ supervisor.StartType) (*actor.PID, error) {
		return supervisor.Start(ctx, n, supervisor.Spec{Strategy: supervisor.OneForOne, Children: []supervisor.ChildSpec{
			exchange.ChildSpec(exchange.Spec{Name: "orders", Strategy: exchange.LeaderOnly}),
			patterns.ControllerSpec("orders-controller", func() *patterns.Controller {
				return patterns.NewController(exchange.Named("orders"), ok)
			}),
		}})
	}}); err != nil {
		t.Fatal(err)
	}
	if err := apps.Start(ctx, "shop", supervisor.Permanent); err != nil {
		t.Fatal(err)
	}
	tc.AwaitExchange("orders", 0)
	orders := exchange.At(n1.Address(), "orders")
	tc.StartController(1, orders, patterns.NewController(orders, ok))
	news := tc.StartPubSub(0, pubsub.Spec{Name: "news"})
	sub, err := n2.Spawn(ctx, &actor.BaseServer{})
	if err != nil {
		t.Fatal(err)
	}
	if err := patterns.Subscribe(ctx, n2, news, "a.#", "t", sub); err != nil {
		t.Fatal(err)
	}
	jobs := tc.StartTasks(0, tasks.Spec{Name: "jobs", AckTimeout: time.Hour})
	if _, err := n2.Spawn(ctx, patterns.NewWorker(jobs, 2, func(*patterns.Worker, *tasks.Task) {})); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := patterns.NewTasks(n2).Submit(ctx, jobs, wrapperspb.String("job")); err != nil {
			t.Fatal(err)
		}
	}
	return tc
}

// cli runs the command with env (KEY=VALUE) as its environment.
func cli(t *testing.T, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	lookup := func(k string) (string, bool) {
		for _, kv := range env {
			if key, v, _ := strings.Cut(kv, "="); key == k {
				return v, true
			}
		}
		return "", false
	}
	code = run(args, &o, &e, lookup)
	return code, o.String(), e.String()
}

func TestCommands(t *testing.T) {
	tc := cluster(t)
	env := []string{"SWITCHBOARD_NODE=" + tc.Node(1).Address(), "SWITCHBOARD_COOKIE=" + cookie} // through n2
	n1, n2 := tc.Node(0), tc.Node(1)
	for _, c := range []struct {
		args []string
		want []string // in the table
	}{
		{[]string{"nodes"}, []string{"NODE", "n1@localhost", "n2@localhost", n1.Address()}},
		{[]string{"apps"}, []string{"n1@localhost", "shop", "permanent"}},
		{[]string{"tree", "--node", n1.Address()}, []string{"shop", "exchange:orders", "orders-controller", "restarts 0"}},
		{[]string{"exchanges"}, []string{"orders", "request-response", "news", "pubsub", "jobs", "tasks"}},
		{[]string{"controllers", "orders"}, []string{"exchange orders on n1@localhost", "leader", "@" + n2.Address(), "true"}},
		{[]string{"leaders"}, []string{"orders", "n1@localhost", "leader"}},
		{[]string{"subscriptions"}, []string{"news", "a.#", "t", "@" + n2.Address()}},
		{[]string{"subscriptions", "news"}, []string{"a.#"}},
		{[]string{"queues"}, []string{"jobs", "n1@localhost", "/2"}},
	} {
		code, out, errOut := cli(t, env, c.args...)
		if code != exitOK {
			t.Fatalf("%v: exit %d: %s", c.args, code, errOut)
		}
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Fatalf("%v: no %q in\n%s", c.args, w, out)
			}
		}
	}
}

func TestJSON(t *testing.T) {
	tc := cluster(t)
	env := []string{"SWITCHBOARD_NODE=" + tc.Node(0).Address(), "SWITCHBOARD_COOKIE=" + cookie}
	decode := func(v any, args ...string) {
		t.Helper()
		code, out, errOut := cli(t, env, append(args, "--json")...)
		if code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		if err := json.Unmarshal([]byte(out), v); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	var nodes []inspect.NodeInfo
	decode(&nodes, "nodes")
	if len(nodes) != 2 || nodes[0].Name != "n1@localhost" || len(nodes[0].Applications) != 1 {
		t.Fatalf("nodes: %+v", nodes)
	}
	var apps []appRow
	decode(&apps, "apps")
	if len(apps) != 1 || apps[0].App != "shop" {
		t.Fatalf("apps: %+v", apps)
	}
	var trees []inspect.AppTree
	decode(&trees, "tree", "shop")
	if len(trees) != 1 || len(trees[0].Tree.Children) != 2 {
		t.Fatalf("tree: %+v", trees)
	}
	var exs []located
	decode(&exs, "exchanges")
	if len(exs) != 3 {
		t.Fatalf("exchanges: %+v", exs)
	}
	var ctl exchangeView
	decode(&ctl, "controllers", "orders")
	if ctl.Name != "orders" || len(ctl.Members) != 2 || ctl.StrategyName != "leader" || ctl.Leader == nil {
		t.Fatalf("controllers: %+v", ctl)
	}
	var leaders []exchangeView
	decode(&leaders, "leaders")
	if len(leaders) != 1 || leaders[0].Leader == nil {
		t.Fatalf("leaders: %+v", leaders)
	}
	var subs []pubsubView
	decode(&subs, "subscriptions")
	if len(subs) != 1 || len(subs[0].Subscriptions) != 1 || subs[0].Subscriptions[0].Pattern != "a.#" {
		t.Fatalf("subscriptions: %+v", subs)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var qs []queueView
		decode(&qs, "queues")
		if len(qs) == 1 && qs[0].Ready == 1 && qs[0].InFlight == 2 && len(qs[0].Workers) == 1 && qs[0].Workers[0].Prefetch == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("queues: %+v", qs)
		}
		time.Sleep(20 * time.Millisecond) // deliveries are asynchronous: poll, bounded
	}
}

func TestErrors(t *testing.T) {
	tc := cluster(t)
	addr := tc.Node(0).Address()
	good := []string{"SWITCHBOARD_COOKIE=" + cookie}
	for _, c := range []struct {
		name string
		env  []string
		args []string
		code int
		says string
	}{
		{"no command", good, nil, exitUsage, "usage"},
		{"unknown command", good, []string{"frobnicate"}, exitUsage, "unknown command"},
		{"no node", good, []string{"nodes"}, exitUsage, "--node"},
		{"bad flag", good, []string{"nodes", "--nope"}, exitUsage, "nope"},
		{"unreachable", good, []string{"nodes", "--node", "127.0.0.1:1"}, exitUnreachable, "cannot reach"},
		{"wrong cookie", nil, []string{"nodes", "--node", addr, "--cookie", "wrong"}, exitCookie, "cookie"},
		{"unknown exchange", good, []string{"controllers", "nope", "--node", addr}, exitUnknown, "nope"},
		{"wrong kind", good, []string{"controllers", "news", "--node", addr}, exitUnknown, "pubsub"},
		{"unknown pub-sub exchange", good, []string{"subscriptions", "orders", "--node", addr}, exitUnknown, "request-response"},
		{"unknown application", good, []string{"tree", "nope", "--node", addr}, exitUnknown, "nope"},
		{"missing cookie file", good, []string{"nodes", "--node", addr, "--cookie", "", "--cookie-file", "/nonexistent"}, exitUsage, "nonexistent"},
	} {
		code, _, errOut := cli(t, c.env, c.args...)
		if code != c.code || !strings.Contains(errOut, c.says) {
			t.Errorf("%s: exit %d (want %d): %s", c.name, code, c.code, errOut)
		}
	}
	// The cookie from a file.
	f := t.TempDir() + "/cookie"
	if err := writeFile(f, cookie+"\n"); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := cli(t, nil, "nodes", "--node", addr, "--cookie-file", f); code != exitOK {
		t.Fatalf("cookie file: exit %d: %s", code, errOut)
	}
}
