package supervisor

import (
	"testing"
	"time"
)

func threeChildren(f *fixture, s Strategy) Spec {
	return Spec{Strategy: s, Intensity: 10, Period: time.Minute,
		Children: []ChildSpec{f.worker("a"), f.worker("b"), f.worker("c")}}
}

func TestOneForOneRestartsOnlyTheChild(t *testing.T) {
	f := newFixture(t)
	sup := f.start(threeChildren(f, OneForOne))
	f.expect("start:a", "start:b", "start:c")
	before := f.pids(sup)
	f.crash(before["b"])
	f.expect("stop:b", "start:b")
	f.quiet(sup)
	after := f.pids(sup)
	if !same(before["a"], after["a"]) || !same(before["c"], after["c"]) || same(before["b"], after["b"]) || after["b"] == nil {
		t.Fatalf("before %s after %s: want only b restarted with a new PID", describe(before), describe(after))
	}
}

func TestOneForAllRestartsEveryone(t *testing.T) {
	f := newFixture(t)
	sup := f.start(threeChildren(f, OneForAll))
	f.expect("start:a", "start:b", "start:c")
	before := f.pids(sup)
	f.crash(before["b"])
	// The others stop in reverse order, then all start in order.
	f.expect("stop:b", "stop:c", "stop:a", "start:a", "start:b", "start:c")
	f.quiet(sup)
	after := f.pids(sup)
	for _, id := range []string{"a", "b", "c"} {
		if same(before[id], after[id]) || after[id] == nil {
			t.Fatalf("%s not restarted: before %s after %s", id, describe(before), describe(after))
		}
	}
}

func TestRestForOneRestartsLaterSiblingsInOrder(t *testing.T) {
	f := newFixture(t)
	spec := threeChildren(f, RestForOne)
	spec.Children = append(spec.Children, f.worker("d"))
	sup := f.start(spec)
	f.expect("start:a", "start:b", "start:c", "start:d")
	before := f.pids(sup)
	f.crash(before["b"])
	f.expect("stop:b", "stop:d", "stop:c", "start:b", "start:c", "start:d")
	f.quiet(sup)
	after := f.pids(sup)
	if !same(before["a"], after["a"]) {
		t.Fatal("a was restarted")
	}
	for _, id := range []string{"b", "c", "d"} {
		if same(before[id], after[id]) || after[id] == nil {
			t.Fatalf("%s not restarted", id)
		}
	}
}

func TestSimpleOneForOne(t *testing.T) {
	f := newFixture(t)
	tmpl := ChildSpec{ID: "conn", Start: func(ctx ctxT, sup procT, args any) (pidT, error) {
		return sup.SpawnLink(ctx, &worker{id: args.(string), log: f.log})
	}}
	sup := f.start(Spec{Strategy: SimpleOneForOne, Intensity: 10, Period: time.Minute, Children: []ChildSpec{tmpl}})
	f.quiet(sup)
	var pids []pidT
	for _, name := range []string{"x", "y", "z"} {
		pid, err := StartChildWith(f.ctx(), f.n, sup, name)
		if err != nil {
			t.Fatal(err)
		}
		f.expect("start:" + name)
		pids = append(pids, pid)
	}
	f.crash(pids[1])
	f.expect("stop:y", "start:y") // restarted with the same args
	f.quiet(sup)
	if n, _ := CountChildren(f.ctx(), f.n, sup); n.Active != 3 || n.Specs != 3 {
		t.Fatalf("counts %+v; want 3 active", n)
	}
	if err := TerminateChildPID(f.ctx(), f.n, sup, pids[0]); err != nil {
		t.Fatal(err)
	}
	f.expect("stop:x")
	if n, _ := CountChildren(f.ctx(), f.n, sup); n.Active != 2 || n.Specs != 2 {
		t.Fatalf("counts %+v; want 2 after terminate", n)
	}
	if _, err := StartChild(f.ctx(), f.n, sup, f.worker("w")); err == nil {
		t.Fatal("StartChild on simple_one_for_one succeeded")
	}
}

func TestRestartTypes(t *testing.T) {
	f := newFixture(t)
	perm, trans, temp := f.worker("perm"), f.worker("trans"), f.worker("temp")
	trans.Restart, temp.Restart = Transient, Temporary
	sup := f.start(Spec{Intensity: 10, Period: time.Minute, Children: []ChildSpec{perm, trans, temp}})
	f.expect("start:perm", "start:trans", "start:temp")
	p := f.pids(sup)

	// Permanent: restarted even after a normal exit.
	if _, err := f.n.Call(f.ctx(), p["perm"], "normal"); err != nil {
		t.Fatal(err)
	}
	f.expect("stop:perm", "start:perm")
	// Transient: not restarted after a normal exit...
	transDown := f.monitor(p["trans"])
	if _, err := f.n.Call(f.ctx(), p["trans"], "normal"); err != nil {
		t.Fatal(err)
	}
	f.expect("stop:trans")
	f.down(transDown) // links are told before monitors: the supervisor has the exit queued
	f.quiet(sup)
	if got := f.pids(sup); got["trans"] != nil {
		t.Fatal("transient child restarted after a normal exit")
	}
	// ...but restarted after an abnormal one.
	pid, err := RestartChild(f.ctx(), f.n, sup, "trans")
	if err != nil {
		t.Fatal(err)
	}
	f.expect("start:trans")
	f.crash(pid)
	f.expect("stop:trans", "start:trans")
	// Temporary: never restarted, and its spec is gone.
	tempDown := f.monitor(p["temp"])
	f.crash(p["temp"])
	f.expect("stop:temp")
	f.down(tempDown)
	f.quiet(sup)
	if _, ok := f.pids(sup)["temp"]; ok {
		t.Fatal("temporary child's spec kept after it exited")
	}
}
