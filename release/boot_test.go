package release_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/internal/consultest"
	"github.com/switchboard-go/switchboard/patterns"
	"github.com/switchboard-go/switchboard/release"
	"github.com/switchboard-go/switchboard/supervisor"
)

var zone = release.NewKey("zone", "UTC", "the time zone the clock answers in")

// bootApps: clock serves the declared exchange "time"; core is the
// distributed application, which reports where it starts.
func bootApps(started chan<- string) release.Apps {
	clock := release.App{
		Keys: []release.AnyKey{zone},
		Start: func(ctx context.Context, n *actor.Node, env release.Env, _ supervisor.StartType) (*actor.PID, error) {
			z := zone.Get(env)
			ctrl := patterns.ControllerSpec("clock", func() *patterns.Controller {
				return patterns.NewController(exchange.Named("time"), func(context.Context, *exchange.Request) (any, error) {
					return wrapperspb.String("noon in " + z + " on " + n.Name()), nil
				})
			})
			return supervisor.Start(ctx, n, supervisor.Spec{Strategy: supervisor.OneForOne, Children: []supervisor.ChildSpec{ctrl}})
		},
	}
	core := release.App{Start: func(ctx context.Context, n *actor.Node, _ release.Env, t supervisor.StartType) (*actor.PID, error) {
		started <- n.Name() + " " + t.Mode.String()
		return supervisor.Start(ctx, n, supervisor.Spec{Strategy: supervisor.OneForOne})
	}}
	return release.Apps{"clock": clock, "core": core}
}

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestBoot starts three nodes from release files over loopback, joined by
// the embedded provider: a runs the declared exchange "time" and is first
// in core's list; b serves "time" through its application clock (with the
// zone its file sets); c calls "time" by name and gets b's answer.
func TestBoot(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := t.TempDir()
	writeFile(t, dir, "cookie", "s3cret\n")
	started := make(chan string, 4)
	apps := bootApps(started)
	boot := func(name, text string) *release.Running { return bootFile(ctx, t, dir, name, text, apps) }
	core := `
[apps.core]
nodes = ["a@localhost", "b@localhost"]
failover_timeout = "100ms"
`
	a := boot("a", fmt.Sprintf(`
[node]
name = "a@localhost"
listen = "127.0.0.1:0"
cookie_file = "cookie"
lock_dir = %q

[exchanges.time]
kind = "request"
strategy = "round_robin"
%s`, dir, core))
	select {
	case s := <-started:
		if s != "a@localhost normal" {
			t.Fatalf("core started on %s", s)
		}
	case <-ctx.Done():
		t.Fatal("core did not start")
	}
	seeded := func(name string) string {
		return fmt.Sprintf("[node]\nname = %q\nlisten = \"127.0.0.1:0\"\ncookie_file = \"cookie\"\nlock_dir = %q\nseeds = [%q]\n", name, dir, a.Node().Address())
	}
	b := boot("b", seeded("b@localhost")+`
[apps.clock.env]
zone = "CET"
`+core)
	c := boot("c", seeded("c@localhost"))

	// b hears that core runs on a once the directory entry reached it.
	await(ctx, t, "b does not see core on a", func() bool { where, _ := b.Distributed().Where("core"); return where == "a@localhost" })
	if names := appNames(a.Applications().Running()); names != "[switchboard:exchanges core]" {
		t.Errorf("a runs %s", names)
	}
	if names := appNames(b.Applications().Running()); names != "[clock]" {
		t.Errorf("b runs %s", names)
	}
	if got := callTime(ctx, t, c); got != "noon in CET on b@localhost" {
		t.Errorf("time answered %q", got)
	}
	select {
	case s := <-started:
		t.Errorf("core started again, on %s", s)
	default:
	}
}

// bootFile writes the release file name.toml in dir, loads it, starts it
// and stops it when the test ends.
func bootFile(ctx context.Context, t *testing.T, dir, name, text string, apps release.Apps) *release.Running {
	t.Helper()
	r, err := release.Load(writeFile(t, dir, name+".toml", text), apps)
	if err != nil {
		t.Fatal(err)
	}
	run, err := r.Start(ctx, release.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := run.Stop(context.Background()); err != nil {
			t.Errorf("stop %s: %v", name, err)
		}
		select {
		case <-run.Done():
		default:
			t.Errorf("%s: Done not closed after Stop", name)
		}
	})
	return run
}

// await polls cond every 20 ms until it holds, or fails the test at the
// context's end.
func await(ctx context.Context, t *testing.T, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatalf("%s: %v", what, ctx.Err())
		}
	}
}

// callTime calls the exchange time from run's node until it answers
// (until the caller's node hears of the exchange and a controller has
// joined it) and returns the answer.
func callTime(ctx context.Context, t *testing.T, run *release.Running) string {
	t.Helper()
	client := patterns.NewClient(run.Node())
	var got string
	await(ctx, t, "time never answered", func() bool {
		v, err := client.Call(ctx, exchange.Named("time"), wrapperspb.String("now"))
		if err != nil && !errors.Is(err, exchange.ErrExchangeNotFound) && !errors.Is(err, exchange.ErrNoController) {
			t.Fatal(err)
		}
		if err == nil {
			got = v.(*wrapperspb.StringValue).GetValue()
		}
		return err == nil
	})
	return got
}

func appNames(infos []supervisor.AppInfo) string {
	names := make([]string, len(infos))
	for i, a := range infos {
		names[i] = a.Name
	}
	return fmt.Sprint(names)
}

// TestBootConsul: the same release on Consul membership (node.consul):
// two nodes, the declared exchange answering across them, the distributed
// application on the first node of its list.
func TestBootConsul(t *testing.T) {
	agent := consultest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := t.TempDir()
	started := make(chan string, 4)
	apps := bootApps(started)
	head := func(name string) string {
		return fmt.Sprintf("[node]\nname = %q\nlisten = \"127.0.0.1:0\"\ncookie = \"c\"\nconsul = %q\n", name, agent.Addr)
	}
	core := "[apps.core]\nnodes = [\"a@localhost\", \"b@localhost\"]\n"
	bootFile(ctx, t, dir, "a", head("a@localhost")+"[exchanges.time]\nkind = \"request\"\n"+core, apps)
	select {
	case s := <-started:
		if s != "a@localhost normal" {
			t.Fatalf("core started on %s", s)
		}
	case <-ctx.Done():
		t.Fatal("core did not start")
	}
	b := bootFile(ctx, t, dir, "b", head("b@localhost")+"[apps.clock]\n"+core, apps)
	await(ctx, t, "b does not see core on a", func() bool { where, _ := b.Distributed().Where("core"); return where == "a@localhost" })
	if got := callTime(ctx, t, b); got != "noon in UTC on b@localhost" {
		t.Errorf("time answered %q", got)
	}
}
