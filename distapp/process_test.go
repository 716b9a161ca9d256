package distapp_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/cluster"
	"github.com/switchboard-go/switchboard/internal/childtest"
	"github.com/switchboard-go/switchboard/internal/consultest"
)

// processKind sets up a provider for a test with nodes in OS processes.
type processKind struct {
	name     string
	observer cluster.Provider           // the test's own node, a client
	env      func(seed string) []string // a child's
	bound    time.Duration              // of kill -9 to the first reply from the new instance
}

func consulProcesses(t *testing.T, ttl time.Duration) processKind {
	agent := consultest.Start(t)
	service := "sb-distapp-" + t.Name()
	return processKind{
		name:     "consul",
		observer: cluster.Consul(cluster.ConsulConfig{Address: agent.Addr, Service: service, TTL: ttl, Logger: logger()}),
		env: func(string) []string {
			return []string{"SB_CONSUL=" + agent.Addr, "SB_SERVICE=" + service, "SB_TTL=" + ttl.String()}
		},
		bound: 3 * time.Second,
	}
}

func embeddedProcesses(t *testing.T) processKind {
	dir := t.TempDir()
	return processKind{
		name:     "embedded",
		observer: embedded(dir, ""),
		env: func(seed string) []string {
			return []string{"SB_CONSUL=", "SB_SEEDS=" + seed, "SB_LOCKDIR=" + dir}
		},
		bound: time.Second,
	}
}

// Three nodes [a, {b, c}] as OS processes, with Consul's TTL of 2 s and
// failover timeout 0: the application runs on a; kill -9 of a moves it to
// b or c, and a client calling its exchange by name gets answers again
// within 3 s; the other of b and c, restarted, does not take it over (equal
// priority); a manual takeover moves it there; a, restarted, takes it over
// with Takeover{From}, state handed over each time. The probe shows that two instances never ran at once but in the
// takeover's handover.
func TestProcessesConsul(t *testing.T) { processes(t, consulProcesses(t, 2*time.Second)) }

// The same with the embedded provider on one machine.
func TestProcessesEmbedded(t *testing.T) { processes(t, embeddedProcesses(t)) }

func processes(t *testing.T, k processKind) {
	p := newProbe(t)
	obs := startTNode(t, "obs@test", k.observer)
	env := append(k.env(obs.n.Address()), "SB_PROBE="+p.path)

	a := startChild(t, "a", env)
	a.Expect(t, 10*time.Second, "STATUS running a")
	callUntil(t, obs.n, 10*time.Second, "a")
	extController(t, obs.n) // a controller elsewhere, joined to svc by name
	callTagUntil(t, obs.n, 10*time.Second, "ext", "ext")
	b := startChild(t, "b", env)
	c := startChild(t, "c", env)
	b.Expect(t, 10*time.Second, "STATUS standby a")
	c.Expect(t, 10*time.Second, "STATUS standby a")

	// kill -9 of the node running it.
	// KILLED goes in just before the signal: the instance ends with its
	// process, and nothing can start elsewhere before that (the lock is the
	// process's), so no start can come before this line.
	p.record("KILLED a")
	killed := time.Now()
	a.Kill()
	who, at := callUntil(t, obs.n, 20*time.Second, "b", "c")
	took := at.Sub(killed)
	t.Logf("%s: kill -9 of a to the first reply from %s: %v (target %v)", k.name, who, took, k.bound)
	if took > k.bound {
		t.Errorf("%s: service back %v after kill -9, target %v", k.name, took, k.bound)
	}
	_, at = callTagUntil(t, obs.n, 10*time.Second, "ext", "ext")
	t.Logf("%s: kill -9 of a to the outside controller answering through the new instance: %v", k.name, at.Sub(killed))
	x, y := b, c
	if who == "c" {
		x, y = c, b
	}
	x.Expect(t, 5*time.Second, "STATUS running "+who)
	y.Expect(t, 10*time.Second, "STATUS standby "+who)

	// The other of equal priority returns: no takeover.
	p.record("KILLED %s", y.Name)
	y.Kill()
	y2 := startChild(t, y.Name, env)
	y2.Expect(t, 10*time.Second, "STATUS standby "+who) // it has seen who run it, and decided
	if got, _ := callUntil(t, obs.n, 5*time.Second, who); got != who {
		t.Fatalf("after %s returned: answered by %s", y.Name, got)
	}

	// A manual takeover, asked of the observer's controller, moves it to
	// the other one.
	other := y.Name
	if err := obs.dc.Takeover(ctxT(t, 20*time.Second), "svc", other+"@test"); err != nil {
		t.Fatal(err)
	}
	callUntil(t, obs.n, 10*time.Second, other)
	x.Expect(t, 10*time.Second, "STATUS standby "+other)

	// a returns: it takes the application over.
	a2 := startChild(t, "a", env)
	a2.Expect(t, 20*time.Second, "STATUS running a")
	callUntil(t, obs.n, 10*time.Second, "a")
	y2.Expect(t, 10*time.Second, "STATUS standby a") // the old instance has stopped
	callTagUntil(t, obs.n, 10*time.Second, "ext", "ext")
	x.Expect(t, 10*time.Second, "STATUS standby a")

	starts := p.check(t)
	t.Logf("probe:\n%s", strings.Join(p.lines(t), "\n"))
	want := []string{"a normal", who + " failover a", other + " takeover " + who, "a takeover " + other}
	if !slices.Equal(starts, want) {
		t.Fatalf("starts %q, want %q", starts, want)
	}
	for _, h := range []string{"GOT " + other + " " + who, "GOT a " + other} {
		if !slices.Contains(p.lines(t), h) {
			t.Fatalf("no handover %q in the probe", h)
		}
	}
	for _, ch := range []*childtest.Child{a2, x, y2} {
		ch.Stop(t, childStop)
	}
}

// The failover timeout is honoured: the standby starts the application
// no sooner than the timeout after it saw it go.
func TestProcessesFailoverTimeoutConsul(t *testing.T) {
	failoverTimeout(t, consulProcesses(t, 2*time.Second))
}

func TestProcessesFailoverTimeoutEmbedded(t *testing.T) { failoverTimeout(t, embeddedProcesses(t)) }

func failoverTimeout(t *testing.T, k processKind) {
	const timeout = 2 * time.Second
	p := newProbe(t)
	obs := startTNode(t, "obs@test", k.observer)
	env := append(k.env(obs.n.Address()), "SB_PROBE="+p.path, "SB_TIMEOUT="+timeout.String())
	a := startChild(t, "a", env)
	a.Expect(t, 10*time.Second, "STATUS running a")
	b := startChild(t, "b", env)
	b.Expect(t, 10*time.Second, "STATUS standby a")
	// KILLED goes in just before the signal: the instance ends with its
	// process, and nothing can start elsewhere before that (the lock is the
	// process's), so no start can come before this line.
	p.record("KILLED a")
	killed := time.Now()
	a.Kill()
	gone := b.Expect(t, k.bound, "GONE") // b saw a's instance go: the timeout starts
	ns, err := strconv.ParseInt(strings.Fields(gone)[1], 10, 64)
	if err != nil {
		t.Fatal(gone)
	}
	seen := time.Unix(0, ns) // b's clock: the same machine's
	_, at := callUntil(t, obs.n, timeout+5*time.Second, "b")
	t.Logf("%s: failover timeout %v: kill -9 to b seeing a's instance gone %v, to the first reply from b %v; gone to reply %v",
		k.name, timeout, seen.Sub(killed), at.Sub(killed), at.Sub(seen))
	if at.Sub(seen) < timeout || at.Sub(seen) > timeout+time.Second {
		t.Fatalf("%s: b answered %v after it saw a go, failover timeout %v", k.name, at.Sub(seen), timeout)
	}
	if starts := p.check(t); !slices.Equal(starts, []string{"a normal", "b failover a"}) {
		t.Fatalf("starts %q", starts)
	}
	b.Stop(t, childStop)
}

// A node whose mandatory sync node does not come fails its start after the
// sync timeout, with a SyncError naming the node, and runs nothing.
func TestProcessesSyncMandatoryMissingConsul(t *testing.T) {
	k := consulProcesses(t, 2*time.Second)
	p := newProbe(t)
	obs := startTNode(t, "obs@test", k.observer)
	env := append(k.env(obs.n.Address()), "SB_PROBE="+p.path, "SB_SYNC_MANDATORY=b", "SB_SYNC_TIMEOUT=1s")
	a := startChildNoWait(t, "a", env)
	l := a.Expect(t, 30*time.Second, "SYNCERR")
	t.Logf("a: %s", l)
	f := strings.Fields(l) // SYNCERR b@test after 1.001s: ...
	if f[1] != "b@test" {
		t.Fatalf("sync error names %q: %s", f[1], l)
	}
	if d, err := time.ParseDuration(strings.TrimSuffix(f[3], ":")); err != nil || d < time.Second || d > 3*time.Second {
		t.Fatalf("sync error after %q, timeout 1s: %s", f[3], l)
	}
	select {
	case <-a.Exited():
	case <-time.After(10 * time.Second):
		t.Fatal("a did not exit after its failed start")
	}
	if lines := p.lines(t); len(lines) > 0 {
		t.Fatalf("the application started: %q", lines)
	}
}
