package distapp_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/cluster"
	"github.com/switchboard-go/switchboard/distapp"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/patterns"
	"github.com/switchboard-go/switchboard/supervisor"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// logger logs to stderr when SB_DEBUG is set.
func logger() *slog.Logger {
	if os.Getenv("SB_DEBUG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return quiet()
}

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// short is a node's name without "@test".
func short(node string) string { return strings.TrimSuffix(node, "@test") }

// A probe is a file that every instance of the application appends a
// record to when it starts (before its tree starts) and when it has
// stopped (after its tree stopped); the test appends KILLED just before
// it kills a node's process (nothing can start elsewhere before the
// process is dead: it holds the lock). O_APPEND writes of one line are ordered by the
// kernel, so the file is the true order of those events across processes,
// whatever the code under test believes.
type probe struct {
	path string
	mu   sync.Mutex
}

func newProbe(t testing.TB) *probe {
	return &probe{path: t.TempDir() + "/probe"}
}

func (p *probe) record(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f, err := os.OpenFile(p.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		panic(err) // a test helper: the test cannot go on without its probe
	}
	defer f.Close()
	if _, err := f.WriteString(fmt.Sprintf(format, args...) + "\n"); err != nil {
		panic(err)
	}
}

func (p *probe) lines(t testing.TB) []string {
	t.Helper()
	f, err := os.Open(p.path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	s := bufio.NewScanner(f)
	for s.Scan() {
		out = append(out, s.Text())
	}
	return out
}

// check verifies that at no point did two instances run, except in a
// takeover: from the new instance's START (takeover from the old) to the
// old one's STOP, and then only those two. It returns the starts, in
// order, as "node mode from".
func (p *probe) check(t testing.TB) []string {
	t.Helper()
	lines := p.lines(t)
	active := map[string]bool{}
	var starts []string
	for i, l := range lines {
		f := strings.Fields(l)
		switch f[0] {
		case "START":
			node, mode, from := f[1], f[2], ""
			if len(f) > 3 {
				from = f[3]
			}
			starts = append(starts, strings.Join(f[1:], " "))
			if active[node] {
				t.Fatalf("probe line %d: %s starts again while running\n%s", i+1, node, strings.Join(lines, "\n"))
			}
			switch len(active) {
			case 0:
			case 1:
				if mode != "takeover" || !active[from] {
					t.Fatalf("probe line %d: %s starts (%s from %q) while %v runs\n%s", i+1, node, mode, from, active, strings.Join(lines, "\n"))
				}
			default:
				t.Fatalf("probe line %d: a third instance\n%s", i+1, strings.Join(lines, "\n"))
			}
			active[node] = true
		case "STOP", "KILLED":
			delete(active, f[1])
		}
	}
	return starts
}

// svc is the application of the tests: the exchange "svc" and a
// controller (service tag "own") answering the node's short name; a
// request "state:X" is a handover, recorded as GOT. Its instance records
// START and STOP.
func svc(p *probe, node string) supervisor.Application {
	return supervisor.Application{
		Name: "svc",
		Start: func(ctx context.Context, n *actor.Node, t supervisor.StartType) (*actor.PID, error) {
			p.record("START %s %s %s", short(node), t.Mode, short(t.From))
			return supervisor.Start(ctx, n, supervisor.Spec{
				Strategy: supervisor.OneForOne,
				Children: []supervisor.ChildSpec{
					exchange.ChildSpec(exchange.Spec{Name: "svc"}),
					patterns.ControllerSpec("svc-controller", func() *patterns.Controller {
						c := patterns.NewController(exchange.Named("svc"), func(_ context.Context, r *exchange.Request) (any, error) {
							if s, ok := r.Msg.(*wrapperspb.StringValue); ok && strings.HasPrefix(s.GetValue(), "state:") {
								p.record("GOT %s %s", short(node), strings.TrimPrefix(s.GetValue(), "state:"))
							}
							return wrapperspb.String(short(node)), nil
						})
						c.Membership.ServiceTag = "own"
						return c
					}),
				},
			})
		},
		Stop: func(context.Context) { p.record("STOP %s", short(node)) },
	}
}

// handover sends the old instance's state (its node's name) to the new
// instance's exchange on node to.
func handover(ctx context.Context, n *actor.Node, to string) error {
	m, ok := cluster.From(n).Member(to)
	if !ok {
		return fmt.Errorf("%s is not a member", to)
	}
	_, err := patterns.NewClient(n).Call(ctx, exchange.At(m.Address, "svc"), wrapperspb.String("state:"+short(n.Name())), patterns.WithServiceTag("own"))
	return err
}

// tnode is a node of a test in the test's own process.
type tnode struct {
	n    *actor.Node
	c    *cluster.Cluster
	apps *supervisor.AppController
	dc   *distapp.Coordinator
	once sync.Once
}

func startTNode(t testing.TB, name string, prov cluster.Provider) *tnode {
	t.Helper()
	n, err := actor.Start(actor.Config{Name: name, Listen: "127.0.0.1:0", Logger: logger()})
	if err != nil {
		t.Fatal(err)
	}
	tn := &tnode{n: n}
	t.Cleanup(tn.stop)
	if tn.c, err = cluster.Join(ctxT(t, 10*time.Second), n, cluster.Config{Provider: prov, Logger: logger()}); err != nil {
		t.Fatal(err)
	}
	if tn.apps, err = supervisor.NewAppController(ctxT(t, 5*time.Second), n); err != nil {
		t.Fatal(err)
	}
	if tn.dc, err = distapp.NewCoordinator(n, tn.apps); err != nil {
		t.Fatal(err)
	}
	return tn
}

// stop stops the node cleanly: its applications, the cluster, the node.
func (tn *tnode) stop() {
	tn.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if tn.dc != nil {
			_ = tn.dc.StopAll(ctx)
		}
		if tn.c != nil {
			_ = tn.c.Leave(ctx)
		}
		_ = tn.n.Stop(ctx)
	})
}

// awaitWhere waits until node runs the application as tn sees it.
func (tn *tnode) awaitWhere(t testing.TB, d time.Duration, app, node string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		if w, ok := tn.dc.Where(app); ok && w == node {
			return
		}
		if time.Now().After(deadline) {
			w, _ := tn.dc.Where(app)
			t.Fatalf("%s: %s not running on %s within %v (where: %q)", tn.n.Name(), app, node, d, w)
		}
		time.Sleep(10 * time.Millisecond) // the directory has no events to await
	}
}

// awaitHolder waits until tn's manager of app has seen node run it.
func (tn *tnode) awaitHolder(t testing.TB, d time.Duration, app, node string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		st, _ := tn.dc.Status(app)
		if st.Holder == node {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: has not seen %s run %s within %v (status %+v)", tn.n.Name(), node, app, d, st)
		}
		time.Sleep(10 * time.Millisecond) // the manager looks at the directory every 100 ms
	}
}

// callUntil calls the application's controller through the exchange svc
// by name from n until it answers one of want, and returns the answer and
// when it came.
func callUntil(t testing.TB, n *actor.Node, d time.Duration, want ...string) (string, time.Time) {
	t.Helper()
	return callTagUntil(t, n, d, "own", want...)
}

// extController joins a controller of node n, service tag "ext", to the
// exchange svc by name: wherever svc runs, it joins it there.
func extController(t testing.TB, n *actor.Node) {
	t.Helper()
	c := patterns.NewController(exchange.Named("svc"), func(context.Context, *exchange.Request) (any, error) {
		return wrapperspb.String("ext"), nil
	})
	c.Membership.ServiceTag = "ext"
	if _, err := n.Spawn(ctxT(t, 5*time.Second), c); err != nil {
		t.Fatal(err)
	}
}

func callTagUntil(t testing.TB, n *actor.Node, d time.Duration, tag string, want ...string) (string, time.Time) {
	t.Helper()
	cl := patterns.NewClient(n)
	deadline := time.Now().Add(d)
	var last error
	var got string
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		v, err := cl.Call(ctx, exchange.Named("svc"), wrapperspb.String("hi"), patterns.WithServiceTag(tag))
		cancel()
		if err == nil {
			got = v.(*wrapperspb.StringValue).GetValue()
			for _, w := range want {
				if got == w {
					return got, time.Now()
				}
			}
		} else {
			last = err
		}
		time.Sleep(10 * time.Millisecond) // a client's pace between calls
	}
	t.Fatalf("svc did not answer one of %v within %v: last answer %q, last error %v", want, d, got, last)
	return "", time.Time{}
}

// idleApp starts an empty supervisor.
func idleApp(ctx context.Context, n *actor.Node, _ supervisor.StartType) (*actor.PID, error) {
	return supervisor.Start(ctx, n, supervisor.Spec{Strategy: supervisor.OneForOne})
}
