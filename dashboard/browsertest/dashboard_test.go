package browsertest

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/cluster"
	"github.com/switchboard-go/switchboard/dashboard"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/inspect"
	"github.com/switchboard-go/switchboard/internal/childtest"
	"github.com/switchboard-go/switchboard/patterns"
	"github.com/switchboard-go/switchboard/supervisor"
)

// observer starts the test's node n1@test: it runs the application front
// (the exchange orders, leader strategy), its inspector, and joins an
// embedded cluster with its locks in dir.
func observer(t *testing.T, dir string) *actor.Node {
	t.Helper()
	n, err := actor.Start(actor.Config{Name: "n1@test", Listen: "127.0.0.1:0", Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := cluster.Join(ctx, n, cluster.Config{Provider: cluster.Embedded(cluster.EmbeddedConfig{Interval: 50 * time.Millisecond, LockDir: dir})})
	if err != nil {
		t.Fatal(err)
	}
	apps, err := supervisor.NewAppController(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := inspect.Start(ctx, n, inspect.Sources{Apps: apps}); err != nil {
		t.Fatal(err)
	}
	front := supervisor.Application{Name: "front", Start: func(ctx context.Context, n *actor.Node, _ supervisor.StartType) (*actor.PID, error) {
		return supervisor.Start(ctx, n, supervisor.Spec{Strategy: supervisor.OneForOne, Children: []supervisor.ChildSpec{
			exchange.ChildSpec(exchange.Spec{Name: "orders", Strategy: exchange.LeaderOnly}),
		}})
	}}
	if err := apps.Load(front); err != nil {
		t.Fatal(err)
	}
	if err := apps.Start(ctx, "front", supervisor.Permanent); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_ = apps.StopAll(ctx)
		_ = cl.Leave(ctx)
		_ = n.Stop(ctx)
	})
	return n
}

// callEvery makes call i (0, 1, ...) every 20 ms, each with a second to
// answer, until stopped, so the page has a request rate to show; calls may
// fail while a node dies.
func callEvery(n *actor.Node, call func(ctx context.Context, c *patterns.Client, i int)) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		c := patterns.NewClient(n)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for i := 0; ; i++ {
			cctx, ccancel := context.WithTimeout(ctx, time.Second)
			call(cctx, c, i)
			ccancel()
			select {
			case <-t.C:
			case <-ctx.Done():
				return
			}
		}
	})
	return func() { cancel(); wg.Wait() }
}

// load calls orders every 20 ms until stopped.
func load(n *actor.Node) (stop func()) {
	return callEvery(n, func(ctx context.Context, c *patterns.Client, _ int) {
		_, _ = c.Call(ctx, exchange.Named("orders"), wrapperspb.String("x"))
	})
}

// TestDashboardInBrowser: the dashboard of n1 (this process) in headless
// chromium shows n2 and n3 (OS processes of their own), the exchange
// orders with its leader on n2 and a request rate, the task queue jobs on n2 with 5 tasks
// waiting and every node's applications; after kill -9 of n2 it shows n2
// down, the leader moved to n3 and jobs gone.
func TestDashboardInBrowser(t *testing.T) {
	began := time.Now()
	ctx := browser(t)
	dir := t.TempDir()
	obs := observer(t, dir)
	env := []string{childSeed + "=" + obs.Address(), childLocks + "=" + dir}
	n2 := childtest.Start(t, "n2", append(env, childName+"=n2@test", childQueue+"=1")...)
	n2.Expect(t, 30*time.Second, "READY ")
	// n3's controller joins after n2's: n2's leads.
	n3 := childtest.Start(t, "n3", append(env, childName+"=n3@test")...)
	n3.Expect(t, 30*time.Second, "READY ")
	defer n3.Stop(t, 20*time.Second)
	stop := load(obs)
	defer stop()

	d, err := dashboard.New(dashboard.Config{Node: obs, Interval: 250 * time.Millisecond, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(d)
	defer srv.Close()
	defer func() { _ = d.Close() }()

	opened := time.Now()
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	awaitPage(t, ctx, 30*time.Second, func(p page) error {
		for _, name := range []string{"n1@test", "n2@test", "n3@test"} {
			n, ok := p.node(name)
			if err := want(ok && n.Status == "up", "node %s: %+v", name, n); err != nil {
				return err
			}
		}
		n1, _ := p.node("n1@test")
		if err := want(n1.Links == "n2@test, n3@test", "n1's links %q", n1.Links); err != nil {
			return err
		}
		if err := want(len(p.Exchanges) == 1, "exchanges %+v", p.Exchanges); err != nil {
			return err
		}
		e := p.Exchanges[0]
		if err := want(e.Name == "orders" && e.Node == "n1@test" && e.Leader == "n2@test" &&
			(e.Controllers == "n2@test ★, n3@test" || e.Controllers == "n3@test, n2@test ★"), "exchange %+v", e); err != nil {
			return err
		}
		// load's requests, 50 a second at most.
		if err := want(e.Rate != "0.0" && e.Rate != "", "exchange %+v: no rate", e); err != nil {
			return err
		}
		if err := want(len(p.Queues) == 1 && p.Queues[0] == pageQueue{Name: "jobs", Node: "n2@test", Depth: "5"}, "queues %+v", p.Queues); err != nil {
			return err
		}
		return want(strings.Join(p.Apps, "; ") == "front on n1@test; shop on n2@test; shop on n3@test" && p.Live == "live", "apps %v, %q", p.Apps, p.Live)
	})
	t.Logf("the page showed the cluster %v after it was opened", time.Since(opened).Round(time.Millisecond))

	if err := n2.Cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	awaitPage(t, ctx, 20*time.Second, func(p page) error {
		n, ok := p.node("n2@test")
		if err := want(ok && n.Status == "down", "n2: %+v (shown: %v)", n, ok); err != nil {
			return err
		}
		if err := want(len(p.Exchanges) == 1 && p.Exchanges[0].Leader == "n3@test" && p.Exchanges[0].Controllers == "n3@test ★", "exchanges %+v", p.Exchanges); err != nil {
			return err
		}
		if err := want(len(p.Queues) == 0, "queues %+v", p.Queues); err != nil {
			return err
		}
		return want(strings.Join(p.Apps, "; ") == "front on n1@test; shop on n3@test", "apps %v", p.Apps)
	})
	t.Logf("the page showed n2 down and the leader moved %v after kill -9", time.Since(killed).Round(time.Millisecond))
	<-n2.Exited()
	if err := d.Close(); err != nil && !errors.Is(err, dashboard.ErrClosed) {
		t.Fatal(err)
	}
	t.Logf("the whole test, chromium's start included: %v", time.Since(began).Round(time.Millisecond))
}
