package supervisor

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/actor"
)

// app is an application whose tree is one worker with the app's name; its
// Start and Stop callbacks are logged as app-start:NAME and app-stop:NAME.
func (f *fixture) app(name string, deps ...string) Application {
	return Application{
		Name: name,
		Deps: deps,
		Start: func(ctx context.Context, n *actor.Node, _ StartType) (*actor.PID, error) {
			f.log <- "app-start:" + name
			return Start(ctx, n, Spec{Children: []ChildSpec{f.worker(name)}})
		},
		Stop: func(context.Context) { f.log <- "app-stop:" + name },
	}
}

func (f *fixture) controller(apps ...Application) *AppController {
	f.t.Helper()
	c, err := NewAppController(f.ctx(), f.n)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, a := range apps {
		if err := c.Load(a); err != nil {
			f.t.Fatal(err)
		}
	}
	return c
}

func TestApplicationsStartDepsFirstAndStopDependentsFirst(t *testing.T) {
	f := newFixture(t)
	c := f.controller(f.app("db"), f.app("cache", "db"), f.app("web", "cache"), f.app("admin", "db"))
	if err := c.Start(f.ctx(), "web", Permanent); err != nil {
		t.Fatal(err)
	}
	f.expect("app-start:db", "start:db", "app-start:cache", "start:cache", "app-start:web", "start:web")
	if err := c.Start(f.ctx(), "admin", Permanent); err != nil {
		t.Fatal(err)
	}
	f.expect("app-start:admin", "start:admin") // db already runs
	var names []string
	for _, a := range c.Running() {
		names = append(names, a.Name)
	}
	if got := names; len(got) != 4 || got[0] != "db" || got[3] != "admin" {
		t.Fatalf("running %v", got)
	}
	// Stopping db stops everything that needs it, in reverse start order.
	if err := c.Stop(f.ctx(), "db"); err != nil {
		t.Fatal(err)
	}
	f.expect("stop:admin", "app-stop:admin", "stop:web", "app-stop:web", "stop:cache", "app-stop:cache", "stop:db", "app-stop:db")
	if len(c.Running()) != 0 {
		t.Fatalf("still running: %v", c.Running())
	}
	if err := c.Stop(f.ctx(), "db"); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("stop stopped app = %v", err)
	}
}

func TestApplicationDependencyErrors(t *testing.T) {
	f := newFixture(t)
	c := f.controller(f.app("a", "b"), f.app("b", "a"), f.app("c", "nope"))
	if err := c.Start(f.ctx(), "a", Permanent); !errors.Is(err, ErrDependencyCycle) {
		t.Fatalf("cycle = %v", err)
	}
	if err := c.Start(f.ctx(), "c", Permanent); !errors.Is(err, ErrUnknownApplication) {
		t.Fatalf("unknown dep = %v", err)
	}
	if err := c.Load(f.app("a")); !errors.Is(err, ErrAlreadyLoaded) {
		t.Fatalf("reload = %v", err)
	}
	if err := c.Load(Application{Name: "x"}); !errors.Is(err, ErrInvalidSpec) {
		t.Fatalf("no start = %v", err)
	}
}

// topApp's "tree" is a single worker that exits with whatever reason it is
// called with, to drive the restart types.
func (f *fixture) topApp(name string) Application {
	a := f.app(name)
	a.Start = func(ctx context.Context, n *actor.Node, _ StartType) (*actor.PID, error) {
		return n.Spawn(ctx, &worker{id: name, log: f.log})
	}
	return a
}

func (f *fixture) topPID(c *AppController, name string) *actor.PID {
	for _, a := range c.Running() {
		if a.Name == name {
			return a.Supervisor
		}
	}
	f.t.Fatalf("%s not running", name)
	return nil
}

func TestTemporaryAndTransientNormalExitsAreOnlyReported(t *testing.T) {
	f := newFixture(t)
	c := f.controller(f.topApp("temp"), f.topApp("trans"), f.topApp("other"))
	for name, r := range map[string]Restart{"temp": Temporary, "trans": Transient, "other": Permanent} {
		if err := c.Start(f.ctx(), name, r); err != nil {
			t.Fatal(err)
		}
	}
	for len(f.log) > 0 {
		<-f.log
	}
	if _, err := f.n.Call(f.ctx(), f.topPID(c, "temp"), "fail"); err != nil {
		t.Fatal(err)
	}
	f.expect("stop:temp", "app-stop:temp")
	if _, err := f.n.Call(f.ctx(), f.topPID(c, "trans"), "normal"); err != nil {
		t.Fatal(err)
	}
	f.expect("stop:trans", "app-stop:trans")
	if got := c.Running(); len(got) != 1 || got[0].Name != "other" {
		t.Fatalf("running %v; want only other", got)
	}
	select {
	case <-c.Done():
		t.Fatal("node halted")
	case <-f.n.Done():
		t.Fatal("node stopped")
	default:
	}
}

func TestPermanentOrAbnormalTransientExitStopsTheNode(t *testing.T) {
	for _, tc := range []struct {
		restart Restart
		call    string
	}{{Permanent, "normal"}, {Transient, "fail"}} {
		t.Run(tc.restart.String(), func(t *testing.T) {
			f := newFixture(t)
			c := f.controller(f.app("base"), f.topApp("svc"), f.app("last"))
			for _, name := range []string{"base", "svc", "last"} {
				r := Permanent
				if name == "svc" {
					r = tc.restart
				}
				if err := c.Start(f.ctx(), name, r); err != nil {
					t.Fatal(err)
				}
			}
			for len(f.log) > 0 {
				<-f.log
			}
			if _, err := f.n.Call(f.ctx(), f.topPID(c, "svc"), tc.call); err != nil {
				t.Fatal(err)
			}
			f.expect("stop:svc", "app-stop:svc", "stop:last", "app-stop:last", "stop:base", "app-stop:base")
			select {
			case <-c.Done():
			case <-time.After(10 * time.Second):
				t.Fatal("controller did not halt")
			}
			select {
			case <-f.n.Done():
			case <-time.After(10 * time.Second):
				t.Fatal("the node did not stop after its controller halted")
			}
			if err := c.Err(); !errors.Is(err, ErrApplicationExited) {
				t.Fatalf("err = %v", err)
			}
		})
	}
}
