package release_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
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
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	boot := func(name, text string) *release.Running {
		t.Helper()
		r, err := release.Load(writeFile(t, dir, name+".toml", text), apps)
		if err != nil {
			t.Fatal(err)
		}
		run, err := r.Start(ctx, release.Options{Logger: logger})
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
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for where, _ := b.Distributed().Where("core"); where != "a@localhost"; where, _ = b.Distributed().Where("core") {
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatalf("b sees core on %q", where)
		}
	}
	if names := appNames(a.Applications().Running()); names != "[switchboard:exchanges core]" {
		t.Errorf("a runs %s", names)
	}
	if names := appNames(b.Applications().Running()); names != "[clock]" {
		t.Errorf("b runs %s", names)
	}
	client := patterns.NewClient(c.Node())
	for {
		v, err := client.Call(ctx, exchange.Named("time"), wrapperspb.String("now"))
		if err == nil {
			if got := v.(*wrapperspb.StringValue).GetValue(); got != "noon in CET on b@localhost" {
				t.Fatalf("reply %q", got)
			}
			break
		}
		// Until c hears of the exchange and b's controller has joined it.
		if !errors.Is(err, exchange.ErrExchangeNotFound) && !errors.Is(err, exchange.ErrNoController) {
			t.Fatal(err)
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatalf("time never answered: %v", err)
		}
	}
	select {
	case s := <-started:
		t.Errorf("core started again, on %s", s)
	default:
	}
}

func appNames(infos []supervisor.AppInfo) string {
	names := make([]string, len(infos))
	for i, a := range infos {
		names[i] = a.Name
	}
	return fmt.Sprint(names)
}
