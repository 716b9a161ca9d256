package distapp_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/cluster"
	"github.com/switchboard-go/switchboard/distapp"
	"github.com/switchboard-go/switchboard/supervisor"
)

func embedded(lockDir, seed string) cluster.Provider {
	var seeds []string
	if seed != "" {
		seeds = []string{seed}
	}
	return cluster.Embedded(cluster.EmbeddedConfig{Seeds: seeds, Interval: 50 * time.Millisecond, LockDir: lockDir})
}

var abc = [][]string{{"a@test"}, {"b@test", "c@test"}}

func others(self string) []string {
	return slices.DeleteFunc([]string{"a@test", "b@test", "c@test"}, func(s string) bool { return s == self })
}

// startAll starts the application on the nodes at once (each waits for
// the others).
func startAll(t *testing.T, spec func(node string) distapp.Spec, nodes ...*tnode) {
	t.Helper()
	var wg sync.WaitGroup
	for _, tn := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := tn.dc.Start(ctxT(t, 20*time.Second), spec(tn.n.Name())); err != nil {
				t.Errorf("start on %s: %v", tn.n.Name(), err)
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
}

// Nodes of one process on the embedded provider: the application starts
// on a; a stops and it fails over to b (first of the equals); a manual
// takeover moves it to c; a comes back and takes it over from c, each
// takeover handing state over; never two instances but in a handover.
func TestEmbeddedFailoverAndTakeover(t *testing.T) {
	dir, p := t.TempDir(), newProbe(t)
	a := startTNode(t, "a@test", embedded(dir, ""))
	seed := a.n.Address()
	b := startTNode(t, "b@test", embedded(dir, seed))
	c := startTNode(t, "c@test", embedded(dir, seed))
	obs := startTNode(t, "obs@test", embedded(dir, seed))
	spec := func(node string) distapp.Spec {
		return distapp.Spec{Application: svc(p, node), Nodes: abc, SyncOptional: others(node), Handover: handover}
	}
	startAll(t, spec, a, b, c)
	callUntil(t, obs.n, 10*time.Second, "a")
	if !a.dc.Running("svc") || b.dc.Running("svc") {
		t.Fatalf("running: a %v, b %v", a.dc.Running("svc"), b.dc.Running("svc"))
	}

	b.awaitHolder(t, 5*time.Second, "svc", "a@test")
	c.awaitHolder(t, 5*time.Second, "svc", "a@test")
	a.stop()
	callUntil(t, obs.n, 10*time.Second, "b")

	if err := b.dc.Takeover(ctxT(t, 10*time.Second), "svc", "c@test"); err != nil {
		t.Fatal(err)
	}
	callUntil(t, obs.n, 10*time.Second, "c")
	if w, _ := obs.dc.Where("svc"); w != "c@test" {
		t.Fatalf("where: %q", w)
	}

	a2 := startTNode(t, "a@test", embedded(dir, b.n.Address())) // a, the first seed, is gone
	if err := a2.dc.Start(ctxT(t, 20*time.Second), spec("a@test")); err != nil {
		t.Fatal(err)
	}
	callUntil(t, obs.n, 10*time.Second, "a")
	c.awaitWhere(t, 5*time.Second, "svc", "a@test")

	starts := p.check(t)
	t.Logf("probe:\n%s", strings.Join(p.lines(t), "\n"))
	want := []string{"a normal", "b failover a", "c takeover b", "a takeover c"}
	if !slices.Equal(starts, want) {
		t.Fatalf("starts %q, want %q\n%q", starts, want, p.lines(t))
	}
	for _, got := range []string{"GOT c b", "GOT a c"} {
		if !slices.Contains(p.lines(t), got) {
			t.Fatalf("no handover %q in the probe:\n%q", got, p.lines(t))
		}
	}
}

// Among equal standbys the one running the fewest distributed
// applications takes over: b runs another one, so c starts svc.
func TestEmbeddedFewestApplications(t *testing.T) {
	dir, p := t.TempDir(), newProbe(t)
	a := startTNode(t, "a@test", embedded(dir, ""))
	seed := a.n.Address()
	b := startTNode(t, "b@test", embedded(dir, seed))
	c := startTNode(t, "c@test", embedded(dir, seed))
	other := distapp.Spec{
		Application: supervisor.Application{Name: "other", Start: idleApp},
		Nodes:       [][]string{{"b@test"}},
	}
	if err := b.dc.Start(ctxT(t, 10*time.Second), other); err != nil {
		t.Fatal(err)
	}
	c.awaitWhere(t, 10*time.Second, "other", "b@test")
	spec := func(node string) distapp.Spec {
		return distapp.Spec{Application: svc(p, node), Nodes: abc, SyncOptional: others(node)}
	}
	startAll(t, spec, a, b, c)
	callUntil(t, c.n, 10*time.Second, "a")
	c.awaitHolder(t, 5*time.Second, "svc", "a@test")
	a.stop()
	callUntil(t, b.n, 10*time.Second, "c")
	if starts := p.check(t); !slices.Equal(starts, []string{"a normal", "c failover a"}) {
		t.Fatalf("starts %q", starts)
	}
}

// A mandatory sync node that does not come fails the start after the
// sync timeout, with a *SyncError naming it.
func TestSyncMandatoryMissing(t *testing.T) {
	dir, p := t.TempDir(), newProbe(t)
	a := startTNode(t, "a@test", embedded(dir, ""))
	b := startTNode(t, "b@test", embedded(dir, a.n.Address()))
	spec := func(node string) distapp.Spec {
		return distapp.Spec{Application: svc(p, node), Nodes: abc,
			SyncMandatory: []string{"c@test"}, SyncOptional: []string{"b@test"}, SyncTimeout: time.Second}
	}
	go func() { _ = b.dc.Start(ctxT(t, 10*time.Second), spec("b@test")) }()
	start := time.Now()
	err := a.dc.Start(ctxT(t, 10*time.Second), spec("a@test"))
	took := time.Since(start)
	var se *distapp.SyncError
	if !errors.As(err, &se) || !errors.Is(err, distapp.ErrSyncTimeout) || !slices.Equal(se.Missing, []string{"c@test"}) {
		t.Fatalf("start without its mandatory node: %v", err)
	}
	t.Logf("start failed after %v: %v", took, err)
	if took < time.Second || took > 3*time.Second {
		t.Fatalf("start failed after %v, sync timeout 1s", took)
	}
	if a.dc.Running("svc") || len(p.lines(t)) > 0 {
		t.Fatalf("the application started: %q", p.lines(t))
	}
	// Once it is there, a start succeeds.
	c := startTNode(t, "c@test", embedded(dir, a.n.Address()))
	go func() { _ = c.dc.Start(ctxT(t, 10*time.Second), spec("c@test")) }()
	if err := a.dc.Start(ctxT(t, 10*time.Second), spec("a@test")); err != nil {
		t.Fatal(err)
	}
	callUntil(t, b.n, 10*time.Second, "a")
}

func TestSpecValidate(t *testing.T) {
	app := supervisor.Application{Name: "x", Start: idleApp}
	for _, s := range []distapp.Spec{
		{Application: app},
		{Application: supervisor.Application{Name: "x"}, Nodes: abc},
		{Application: supervisor.Application{Name: "x/y", Start: idleApp}, Nodes: abc},
		{Application: app, Nodes: [][]string{{"a"}, {}}},
		{Application: app, Nodes: [][]string{{"a"}, {"a"}}},
		{Application: app, Nodes: abc, SyncMandatory: []string{"d@test"}},
		{Application: app, Nodes: abc, FailoverTimeout: -1},
	} {
		if err := s.Validate(); !errors.Is(err, distapp.ErrInvalidSpec) {
			t.Errorf("Validate(%+v) = %v", s, err)
		}
	}
	if err := (distapp.Spec{Application: app, Nodes: abc}).Validate(); err != nil {
		t.Fatal(err)
	}
}

// A takeover whose new instance fails to start is aborted: the old node
// takes its lock back and keeps running the application; it still fails
// over later.
func TestEmbeddedTakeoverAborted(t *testing.T) {
	dir, p := t.TempDir(), newProbe(t)
	b := startTNode(t, "b@test", embedded(dir, ""))
	spec := func(node string) distapp.Spec {
		app := svc(p, node)
		start := app.Start
		app.Start = func(ctx context.Context, n *actor.Node, st supervisor.StartType) (*actor.PID, error) {
			if st.Mode == supervisor.Takeover {
				p.record("START %s takeover %s", short(node), short(st.From))
				p.record("STOP %s", short(node))
				return nil, errors.New("no takeover today")
			}
			return start(ctx, n, st)
		}
		return distapp.Spec{Application: app, Nodes: [][]string{{"a@test"}, {"b@test"}}}
	}
	if err := b.dc.Start(ctxT(t, 10*time.Second), spec("b@test")); err != nil {
		t.Fatal(err)
	}
	callUntil(t, b.n, 10*time.Second, "b")
	a := startTNode(t, "a@test", embedded(dir, b.n.Address()))
	if err := a.dc.Start(ctxT(t, 10*time.Second), spec("a@test")); err != nil {
		t.Fatal(err)
	}
	a.awaitHolder(t, 10*time.Second, "svc", "b@test") // it tried, and stands by
	awaitTrue(t, 10*time.Second, "a's failed takeover is recorded", func() bool { return len(p.lines(t)) >= 3 })
	if !b.dc.Running("svc") || a.dc.Running("svc") {
		t.Fatalf("after the aborted takeover: a %v, b %v", a.dc.Running("svc"), b.dc.Running("svc"))
	}
	callUntil(t, a.n, 5*time.Second, "b")
	// b still holds the lock: when it stops, a fails over.
	b.stop()
	callUntil(t, a.n, 10*time.Second, "a")
	if starts := p.check(t); !slices.Equal(starts, []string{"b normal", "a takeover b", "a failover b"}) {
		t.Fatalf("starts %q", starts)
	}
}
