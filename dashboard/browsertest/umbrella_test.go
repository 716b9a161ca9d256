package browsertest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/cluster"
	"github.com/switchboard-go/switchboard/dashboard"
	"github.com/switchboard-go/switchboard/examples/umbrella/apps/users"
	"github.com/switchboard-go/switchboard/inspect"
	"github.com/switchboard-go/switchboard/patterns"
	"github.com/switchboard-go/switchboard/supervisor"
)

// The umbrella's nodes, as make demo names them, and their roles.
var umbrellaNodes = []struct{ name, role string }{
	{"core-b@localhost", "core"}, // first: it starts every hub, core-a then takes over users_core and time_hub
	{"core-a@localhost", "core"},
	{"work-1@localhost", "worker"},
	{"work-2@localhost", "worker"},
	{"work-3@localhost", "worker"},
	{"access-1@localhost", "access"},
	{"access-2@localhost", "access"},
}

// dashNode starts the test's node dash@localhost with the umbrella's
// cookie: the seed of an embedded cluster with its locks in dir, with
// an inspector and no application.
func dashNode(t *testing.T, cookie, dir string) *actor.Node {
	t.Helper()
	n, err := actor.Start(actor.Config{Name: "dash@localhost", Listen: "127.0.0.1:0", Cookie: cookie, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := cluster.Join(ctx, n, cluster.Config{Provider: cluster.Embedded(cluster.EmbeddedConfig{Interval: 100 * time.Millisecond, LockDir: dir})})
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
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_ = cl.Leave(ctx)
		_ = n.Stop(ctx)
	})
	return n
}

// askUsers asks the users service for a profile every 20 ms until
// stopped.
func askUsers(n *actor.Node) (stop func()) {
	return callEvery(n, func(ctx context.Context, c *patterns.Client, i int) {
		_, _ = users.Get(ctx, c, users.Config{}, fmt.Sprintf("user-%d", i%50))
	})
}

// controllers lists an exchange's controllers as the page shows them,
// sorted, the leader's star dropped.
func controllers(e pageExchange) []string {
	var out []string
	for c := range strings.SplitSeq(e.Controllers, ", ") {
		if c = strings.TrimSuffix(c, " ★"); c != "" {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out
}

func (p page) exchange(name string) (pageExchange, bool) {
	i := slices.IndexFunc(p.Exchanges, func(e pageExchange) bool { return e.Name == name })
	if i < 0 {
		return pageExchange{}, false
	}
	return p.Exchanges[i], true
}

// pubsubOn lists the nodes of the pub-sub exchanges called name with
// upstream up, sorted.
func (p page) pubsubOn(name, up string) []string {
	var out []string
	for _, x := range p.Pubsub {
		if x.Name == name && x.Upstream == up {
			out = append(out, x.Node)
		}
	}
	slices.Sort(out)
	return out
}

// checkUmbrella checks what the page shows of the umbrella with its
// users core (users_core: the exchanges users and profiles) on core and
// the users controllers on replicas.
func checkUmbrella(p page, core string, down []string, replicas []string) error {
	for _, u := range umbrellaNodes {
		n, ok := p.node(u.name)
		status := "up"
		if slices.Contains(down, u.name) {
			status = "down"
		}
		if err := want(ok && n.Status == status, "node %s: %+v (shown: %v), want %s", u.name, n, ok, status); err != nil {
			return err
		}
	}
	e, ok := p.exchange("users")
	if err := want(ok && e.Node == core && slices.Equal(controllers(e), replicas), "users: %+v (shown: %v), want on %s with %v", e, ok, core, replicas); err != nil {
		return err
	}
	e, ok = p.exchange("subscriptions")
	if err := want(ok && e.Node == "core-b@localhost" && strings.HasPrefix(e.Leader, "work-") &&
		slices.Equal(controllers(e), []string{"work-1@localhost", "work-2@localhost", "work-3@localhost"}), "subscriptions: %+v (shown: %v)", e, ok); err != nil {
		return err
	}
	if err := want(slices.ContainsFunc(p.Queues, func(q pageQueue) bool { return q.Name == "documents" && q.Node == "core-b@localhost" }), "queues %+v: no documents on core-b", p.Queues); err != nil {
		return err
	}
	if err := want(slices.Equal(p.pubsubOn("profiles", "–"), []string{core}), "pub-sub %+v: want profiles on %s", p.Pubsub, core); err != nil {
		return err
	}
	return want(slices.Equal(p.pubsubOn("profiles.proxy", "profiles"), []string{"access-1@localhost", "access-2@localhost"}), "pub-sub %+v: want profiles.proxy on the access nodes", p.Pubsub)
}

// TestDashboardOfTheUmbrella: the dashboard of a node of the test joined
// to the umbrella example's seven nodes (OS processes of their own, as
// make demo runs them), in headless chromium, shows the nodes, the
// exchange users on core-a with its five controllers, subscriptions with
// its leader, the queue documents, the pub-sub exchange profiles and its
// proxies on the access nodes; after kill -9 of core-a it shows core-a
// down and the users core (users, profiles) on its standby core-b.
func TestDashboardOfTheUmbrella(t *testing.T) {
	if testing.Short() {
		t.Skip("seven OS processes: not in -short")
	}
	began := time.Now()
	exe := buildUmbrella(t)
	ctx := browser(t)
	dir := t.TempDir()
	locks := filepath.Join(dir, "locks")
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	cookie := hex.EncodeToString(b)
	dash := dashNode(t, cookie, locks)
	env := []string{"SWITCHBOARD_NODE_COOKIE=" + cookie, "SWITCHBOARD_NODE_SEEDS=" + dash.Address(), "SWITCHBOARD_NODE_LOCK_DIR=" + locks}
	procs := map[string]*umbrellaNode{}
	started := time.Now()
	for i, u := range umbrellaNodes {
		procs[u.name] = startUmbrellaNode(t, exe, dir, u.name, u.role, env...)
		if i == 0 { // core-b runs every hub before core-a starts
			procs[u.name].await(t, 60*time.Second)
		}
	}
	for _, u := range umbrellaNodes {
		procs[u.name].await(t, 60*time.Second)
	}
	t.Logf("the umbrella's nodes were ready %v after the first started", time.Since(started).Round(time.Millisecond))
	stop := askUsers(dash)
	defer stop()

	d, err := dashboard.New(dashboard.Config{Node: dash, Interval: 250 * time.Millisecond, Logger: quiet()})
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
	all := []string{"core-a@localhost", "core-b@localhost", "work-1@localhost", "work-2@localhost", "work-3@localhost"}
	awaitPage(t, ctx, 30*time.Second, func(p page) error {
		if err := checkUmbrella(p, "core-a@localhost", nil, all); err != nil {
			return err
		}
		e, _ := p.exchange("users")
		return want(e.Rate != "0.0" && e.Rate != "" && p.Live == "live", "users %+v: no rate; %q", e, p.Live)
	})
	t.Logf("the page showed the umbrella %v after it was opened", time.Since(opened).Round(time.Millisecond))
	screenshot(t, ctx, "dashboard.png")

	procs["core-a@localhost"].kill()
	killed := time.Now()
	awaitPage(t, ctx, 30*time.Second, func(p page) error {
		return checkUmbrella(p, "core-b@localhost", []string{"core-a@localhost"}, all[1:])
	})
	t.Logf("the page showed core-a down and the users core on core-b %v after kill -9", time.Since(killed).Round(time.Millisecond))
	screenshot(t, ctx, "dashboard-node-down.png")
	if err := d.Close(); err != nil && !errors.Is(err, dashboard.ErrClosed) {
		t.Fatal(err)
	}
	t.Logf("the whole test, the build and chromium's start included: %v", time.Since(began).Round(time.Millisecond))
}
