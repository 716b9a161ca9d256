package actor

import (
	"errors"
	"testing"
)

func TestWatch(t *testing.T) {
	n := newNode(t, Config{})
	boom := errors.New("boom")
	pid := spawn(t, n, &fn{call: func(p *Process, _ any) (any, error) { p.Stop(boom); return nil, nil }})
	downs, cancel := n.Watch(pid)
	defer cancel()
	if _, err := n.Call(ctxT(t), pid, nil); err != nil {
		t.Fatal(err)
	}
	d := recv(t, downs)
	if !d.PID.Equal(pid) || !errors.Is(d.Reason, boom) {
		t.Fatalf("down %+v; want boom", d)
	}
	if open := closedWithin(t, downs); open {
		t.Fatal("channel not closed after the Down")
	}
	// A dead pid: ErrNoProcess at once. Cancel: the channel closes.
	gone, c2 := n.Watch(pid)
	defer c2()
	if d := recv(t, gone); !errors.Is(d.Reason, ErrNoProcess) {
		t.Fatalf("down of dead pid %+v", d)
	}
	live := spawn(t, n, &fn{})
	ch, c3 := n.Watch(live)
	c3()
	if open := closedWithin(t, ch); open {
		t.Fatal("cancelled watch delivered a Down")
	}
}

// A call that fails because the callee crashed returns after the callee's
// links were told, so the caller's next step is ordered after them.
func TestCrashReplyFollowsExitSignals(t *testing.T) {
	n := newNode(t, Config{})
	infos := make(chan any, 4)
	var child *PID
	parent := spawn(t, n, &fn{infos: infos, call: func(p *Process, msg any) (any, error) {
		if msg == "spawn" {
			var err error
			child, err = p.SpawnLink(ctxT(t), &fn{call: func(*Process, any) (any, error) { panic("x") }})
			return child, err
		}
		return len(infos), nil
	}}, WithTrapExit())
	c, _ := n.Call(ctxT(t), parent, "spawn")
	for i := 0; i < 50; i++ {
		_, err := n.Call(ctxT(t), c.(*PID), nil)
		if err == nil {
			t.Fatal("crash call succeeded")
		}
		if got, _ := n.Call(ctxT(t), parent, "count"); got != 1 {
			t.Fatalf("parent had %v exits queued when the crash reply (%v) came back; want 1", got, err)
		}
		recv(t, infos)
		c, _ = n.Call(ctxT(t), parent, "spawn")
	}
}

func TestStopProcessEndsATrappingProcess(t *testing.T) {
	n := newNode(t, Config{})
	terminated := make(chan error, 1)
	pid := spawn(t, n, &fn{term: func(_ *Process, r error) { terminated <- r }}, WithTrapExit())
	n.Exit(pid, ErrShutdown) // trapped: an Exit message, not an exit
	if !n.Alive(pid) {
		t.Fatal("a trapping process died of Exit")
	}
	if err := n.StopProcess(ctxT(t), pid, ErrShutdown); err != nil {
		t.Fatal(err)
	}
	if r := recv(t, terminated); !errors.Is(r, ErrShutdown) {
		t.Fatalf("terminate reason %v", r)
	}
	if err := n.StopProcess(ctxT(t), pid, nil); !errors.Is(err, ErrNoProcess) {
		t.Fatalf("stop of a dead process = %v; want ErrNoProcess", err)
	}
}
