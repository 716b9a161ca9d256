package supervisor

import (
	"errors"
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/actor"
)

func TestIntensityExceededTerminatesSupervisor(t *testing.T) {
	f := newFixture(t)
	sup := f.start(Spec{Intensity: 2, Period: time.Minute, Children: []ChildSpec{f.worker("a"), f.worker("b")}})
	supDown := f.monitor(sup)
	f.expect("start:a", "start:b")
	f.crash(f.pids(sup)["a"])
	f.expect("stop:a", "start:a")
	f.crash(f.pids(sup)["a"])
	f.expect("stop:a", "start:a")
	f.crash(f.pids(sup)["a"]) // the third restart in the period is one too many
	f.expect("stop:a", "stop:b")
	reason := f.down(supDown)
	if !errors.Is(reason, ErrMaxRestartIntensity) || !errors.Is(reason, actor.ErrShutdown) {
		t.Fatalf("supervisor exit reason %v; want ErrMaxRestartIntensity (a shutdown)", reason)
	}
}

// A child supervisor that gives up is an exit its parent sees and handles:
// the parent restarts it, counting against its own intensity.
func TestIntensityEscalatesUpTheTree(t *testing.T) {
	f := newFixture(t)
	inner := Supervisor("inner", Spec{Intensity: 1, Period: time.Minute, Children: []ChildSpec{f.worker("leaf")}})
	top := f.start(Spec{Intensity: 1, Period: time.Minute, Children: []ChildSpec{inner}})
	f.expect("start:leaf")
	innerPID := f.pids(top)["inner"]
	innerDown, topDown := f.monitor(innerPID), f.monitor(top)
	leaf := func() *actor.PID { return f.pids(f.pids(top)["inner"])["leaf"] }

	f.crash(leaf())
	f.expect("stop:leaf", "start:leaf")
	f.crash(leaf()) // inner gives up; top restarts inner, which starts a new leaf
	f.expect("stop:leaf", "start:leaf")
	if !errors.Is(f.down(innerDown), ErrMaxRestartIntensity) {
		t.Fatal("inner supervisor did not exit with ErrMaxRestartIntensity")
	}
	if same(innerPID, f.pids(top)["inner"]) {
		t.Fatal("inner supervisor kept its PID")
	}
	// Once more: inner gives up again, and top has used its one restart.
	f.crash(leaf())
	f.expect("stop:leaf", "start:leaf")
	f.crash(leaf())
	f.expect("stop:leaf")
	if reason := f.down(topDown); !errors.Is(reason, ErrMaxRestartIntensity) {
		t.Fatalf("top exit %v; want escalation to ErrMaxRestartIntensity", reason)
	}
}

func TestShutdownIsReverseOrderAndKillsAfterTimeout(t *testing.T) {
	f := newFixture(t)
	hang := make(chan struct{})
	defer close(hang)
	stuck := Worker("stuck", func() actor.Server { return &worker{id: "stuck", log: f.log, hang: hang} })
	stuck.Shutdown = 100 * time.Millisecond
	brutal := f.worker("brutal")
	brutal.Shutdown = BrutalKill
	sup := f.start(Spec{Children: []ChildSpec{f.worker("a"), brutal, f.worker("b"), stuck}})
	f.expect("start:a", "start:brutal", "start:b", "start:stuck")
	stuckPID := f.pids(sup)["stuck"]
	supDown := f.monitor(sup)

	start := time.Now()
	stopped := make(chan error, 1)
	go func() { stopped <- f.n.StopProcess(f.ctx(), sup, actor.ErrShutdown) }()
	// stuck ignores the shutdown and is killed after 100ms; brutal is
	// killed without Terminate; the others terminate in reverse order.
	f.expect("stopping:stuck", "stop:b", "stop:a")
	if reason := f.down(supDown); !errors.Is(reason, actor.ErrShutdown) {
		t.Fatalf("supervisor reason %v", reason)
	}
	select {
	case err := <-stopped:
		if err != nil {
			t.Fatalf("StopProcess: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("StopProcess did not return within 10 s")
	}
	if d := time.Since(start); d < 100*time.Millisecond || d > 5*time.Second {
		t.Fatalf("shutdown took %v; want the 100ms timeout and little more", d)
	}
	if f.n.Alive(stuckPID) {
		t.Fatal("stuck child still alive")
	}
}

func TestInitFailureIsReportedAndUndone(t *testing.T) {
	f := newFixture(t)
	boom := errors.New("no database")
	bad := Worker("bad", func() actor.Server { return &worker{id: "bad", log: f.log, fails: boom} })
	_, err := Start(f.ctx(), f.n, Spec{Children: []ChildSpec{f.worker("a"), f.worker("b"), bad, f.worker("never")}})
	if !errors.Is(err, ErrStartChild) || !errors.Is(err, boom) || !errors.Is(err, actor.ErrInit) {
		t.Fatalf("err = %v; want ErrStartChild wrapping the child's init error", err)
	}
	f.expect("start:a", "start:b", "stop:b", "stop:a")
	// A panic in a child's Init is reported the same way.
	panicky := Worker("p", func() actor.Server { return &panicInit{} })
	_, err = Start(f.ctx(), f.n, Spec{Children: []ChildSpec{panicky}})
	var pe *actor.PanicError
	if !errors.Is(err, ErrStartChild) || !errors.As(err, &pe) {
		t.Fatalf("err = %v; want ErrStartChild wrapping a *PanicError", err)
	}
	if got := f.n.Stats().Processes; got != 0 {
		t.Fatalf("%d processes left after failed starts", got)
	}
}

type panicInit struct{ actor.BaseServer }

func (panicInit) Init(*actor.Process) error { panic("init exploded") }

func TestDynamicChildren(t *testing.T) {
	f := newFixture(t)
	sup := f.start(Spec{Children: []ChildSpec{f.worker("a")}})
	f.expect("start:a")
	if _, err := StartChild(f.ctx(), f.n, sup, f.worker("b")); err != nil {
		t.Fatal(err)
	}
	f.expect("start:b")
	if _, err := StartChild(f.ctx(), f.n, sup, f.worker("b")); !errors.Is(err, ErrAlreadyPresent) {
		t.Fatalf("duplicate = %v", err)
	}
	if err := DeleteChild(f.ctx(), f.n, sup, "b"); !errors.Is(err, ErrRunning) {
		t.Fatalf("delete running = %v", err)
	}
	if err := TerminateChild(f.ctx(), f.n, sup, "b"); err != nil {
		t.Fatal(err)
	}
	f.expect("stop:b")
	if n, _ := CountChildren(f.ctx(), f.n, sup); n != (Counts{Specs: 2, Active: 1, Workers: 2}) {
		t.Fatalf("counts %+v", n)
	}
	if _, err := RestartChild(f.ctx(), f.n, sup, "b"); err != nil {
		t.Fatal(err)
	}
	f.expect("start:b")
	if err := TerminateChild(f.ctx(), f.n, sup, "b"); err != nil {
		t.Fatal(err)
	}
	f.expect("stop:b")
	if err := DeleteChild(f.ctx(), f.n, sup, "b"); err != nil {
		t.Fatal(err)
	}
	if err := DeleteChild(f.ctx(), f.n, sup, "b"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("delete missing = %v", err)
	}
	if _, err := StartChild(f.ctx(), f.n, sup, ChildSpec{ID: "x"}); !errors.Is(err, ErrInvalidSpec) {
		t.Fatalf("invalid spec = %v", err)
	}
	cs, _ := WhichChildren(f.ctx(), f.n, sup)
	if len(cs) != 1 || cs[0].ID != "a" || cs[0].PID == nil {
		t.Fatalf("children %+v", cs)
	}
}

func TestRegisteredNameSurvivesRestart(t *testing.T) {
	f := newFixture(t)
	db := Worker("db", func() actor.Server { return &worker{id: "db", log: f.log} }, actor.WithName("db"))
	f.start(Spec{Children: []ChildSpec{db}})
	f.expect("start:db")
	old := f.n.Whereis("db")
	f.crash(old)
	f.expect("stop:db", "start:db")
	if now := f.n.Whereis("db"); now == nil || now.Equal(old) {
		t.Fatalf("name db -> %v after restart; want the new process", now)
	}
	if v, err := f.n.Call(f.ctx(), f.n.Whereis("db"), "hi"); err != nil || v != "db" {
		t.Fatalf("call by name after restart: %v %v", v, err)
	}
}
