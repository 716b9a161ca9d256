package actor

import (
	"errors"
	"testing"
)

func TestMonitorReportsExitReason(t *testing.T) {
	n := newNode(t, Config{})
	infos := make(chan any, 8)
	watcher := &fn{infos: infos}
	spawn(t, n, watcher)
	boom := errors.New("boom")
	target := spawn(t, n, &fn{call: func(p *Process, _ any) (any, error) { p.Stop(boom); return nil, nil }})

	var ref Ref
	wpid := spawn(t, n, &fn{infos: infos, call: func(p *Process, msg any) (any, error) {
		ref = p.Monitor(msg.(*PID))
		return ref, nil
	}})
	r, err := n.Call(ctxT(t), wpid, target)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Call(ctxT(t), target, "stop"); err != nil {
		t.Fatal(err)
	}
	d := recvInfo[Down](t, infos)
	if d.Ref != r.(Ref) || !d.PID.Equal(target) || !errors.Is(d.Reason, boom) {
		t.Fatalf("down = %+v; want ref %v pid %v reason boom", d, r, target)
	}
	// A monitor of a process that does not exist fires at once.
	if _, err := n.Call(ctxT(t), wpid, target); err != nil {
		t.Fatal(err)
	}
	if d := recvInfo[Down](t, infos); !errors.Is(d.Reason, ErrNoProcess) {
		t.Fatalf("down of dead pid: %v; want ErrNoProcess", d.Reason)
	}
}

func TestDemonitorSuppressesDown(t *testing.T) {
	n := newNode(t, Config{})
	infos := make(chan any, 8)
	target := spawn(t, n, &fn{})
	other := spawn(t, n, &fn{})
	wpid := spawn(t, n, &fn{infos: infos, call: func(p *Process, msg any) (any, error) {
		r1 := p.Monitor(target)
		p.Demonitor(r1)
		return p.Monitor(other), nil
	}})
	ref, _ := n.Call(ctxT(t), wpid, nil)
	n.Exit(target, ErrKill)
	n.Exit(other, ErrKill)
	if d := recvInfo[Down](t, infos); d.Ref != ref.(Ref) || !errors.Is(d.Reason, ErrKilled) {
		t.Fatalf("down = %+v; want only the second monitor, reason killed", d)
	}
}

func TestLinkPropagatesAbnormalExit(t *testing.T) {
	n := newNode(t, Config{})
	boom := errors.New("boom")
	terminated := make(chan error, 1)
	parent := spawn(t, n, &fn{
		term: func(_ *Process, reason error) { terminated <- reason },
		call: func(p *Process, msg any) (any, error) {
			return p.SpawnLink(ctxT(t), &fn{call: func(c *Process, _ any) (any, error) { c.Stop(boom); return nil, nil }})
		},
	})
	child, err := n.Call(ctxT(t), parent, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Call(ctxT(t), child.(*PID), "die"); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, terminated); !errors.Is(got, boom) {
		t.Fatalf("linked parent exited with %v; want boom", got)
	}
}

func TestLinkNormalExitIsIgnoredAndTrapExitDelivers(t *testing.T) {
	n := newNode(t, Config{})
	infos := make(chan any, 8)
	var kid *PID
	parent := spawn(t, n, &fn{infos: infos, call: func(p *Process, msg any) (any, error) {
		switch msg {
		case "trap":
			p.TrapExit(true)
			return nil, nil
		default:
			var err error
			kid, err = p.SpawnLink(ctxT(t), &fn{call: func(c *Process, m any) (any, error) {
				err, _ := m.(error)
				c.Stop(err)
				return nil, nil
			}})
			return kid, err
		}
	}})
	k1, _ := n.Call(ctxT(t), parent, "spawn")
	k1down, cancel := n.Watch(k1.(*PID))
	defer cancel()
	if _, err := n.Call(ctxT(t), k1.(*PID), error(nil)); err != nil {
		t.Fatal(err)
	}
	// A process that stops in HandleCall replies first, then exits (as
	// gen_server's {stop, Reason, Reply, State}); links hear of it before
	// monitors, so after the Down the parent has the exit signal queued.
	recv(t, k1down)
	// Normal exit: the parent survives and answers.
	if _, err := n.Call(ctxT(t), parent, "trap"); err != nil {
		t.Fatalf("parent died on a normal exit of its link: %v", err)
	}
	k2, _ := n.Call(ctxT(t), parent, "spawn")
	boom := errors.New("boom")
	if _, err := n.Call(ctxT(t), k2.(*PID), boom); err != nil {
		t.Fatal(err)
	}
	e := recvInfo[Exit](t, infos)
	if !e.From.Equal(k2.(*PID)) || !errors.Is(e.Reason, boom) {
		t.Fatalf("exit = %+v; want from %v reason boom", e, k2)
	}
	if !n.Alive(parent) {
		t.Fatal("trapping parent died")
	}
}

func TestKillIsUntrappable(t *testing.T) {
	n := newNode(t, Config{})
	terminated := make(chan error, 1)
	pid := spawn(t, n, &fn{term: func(_ *Process, r error) { terminated <- r }}, WithTrapExit())
	spawn(t, n, &fn{init: func(p *Process) error { p.Exit(pid, errors.New("polite")); return nil }})
	if _, err := n.Call(ctxT(t), pid, 1); err != nil { // ordered after the signal
		t.Fatalf("trapping process died of a trappable signal: %v", err)
	}
	n.Exit(pid, ErrKill)
	reason, err := n.Wait(ctxT(t), pid)
	if err != nil && !errors.Is(err, ErrNoProcess) {
		t.Fatal(err)
	}
	if err == nil && !errors.Is(reason, ErrKilled) {
		t.Fatalf("reason = %v; want ErrKilled", reason)
	}
	select {
	case r := <-terminated:
		t.Fatalf("Terminate ran on kill with %v", r)
	default:
	}
}

func TestLinkToDeadProcessSignalsNoProcess(t *testing.T) {
	n := newNode(t, Config{})
	infos := make(chan any, 4)
	pid := spawn(t, n, &fn{infos: infos, call: func(p *Process, msg any) (any, error) {
		p.Link(msg.(*PID))
		return nil, nil
	}}, WithTrapExit())
	if _, err := n.Call(ctxT(t), pid, NewPID(n.Address(), "ghost")); err != nil {
		t.Fatal(err)
	}
	if e := recvInfo[Exit](t, infos); !errors.Is(e.Reason, ErrNoProcess) {
		t.Fatalf("exit = %+v; want ErrNoProcess", e)
	}
}

func TestNodeStopShutsDownInReverseOrder(t *testing.T) {
	n, err := Start(Config{})
	if err != nil {
		t.Fatal(err)
	}
	order := make(chan string, 3)
	for _, name := range []string{"first", "second", "third"} {
		spawn(t, n, &fn{term: func(_ *Process, r error) {
			if errors.Is(r, ErrShutdown) {
				order <- name
			}
		}}, WithTrapExit())
	}
	if err := n.Stop(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"third", "second", "first"} {
		if got := recv(t, order); got != want {
			t.Fatalf("stopped %s; want %s", got, want)
		}
	}
	if _, err := n.Spawn(ctxT(t), &fn{}); !errors.Is(err, ErrNodeStopped) {
		t.Fatalf("spawn on stopped node = %v", err)
	}
}
