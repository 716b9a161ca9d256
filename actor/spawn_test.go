package actor

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// allowEcho lets other nodes spawn "echo" on n: a server that answers
// calls with the prefix it was spawned with (its args) and the message,
// stops with the reason in a "stop:reason" call, and sends every
// HandleInfo message to infos if set.
func allowEcho(t testing.TB, n *Node, infos chan any, nodes ...string) {
	t.Helper()
	if err := n.AllowSpawn("echo", echoFactory(infos), nodes...); err != nil {
		t.Fatal(err)
	}
}

func echoFactory(infos chan any) SpawnFactory {
	return func(args proto.Message) (Server, error) {
		prefix, _ := args.(*wrapperspb.StringValue)
		return &fn{infos: infos, call: func(p *Process, msg any) (any, error) {
			s := msg.(*wrapperspb.StringValue).GetValue()
			if r, ok := strings.CutPrefix(s, "stop:"); ok {
				p.Stop(errors.New(r))
				return wrapperspb.String("stopping"), nil
			}
			return wrapperspb.String(prefix.GetValue() + s), nil
		}}, nil
	}
}

func TestSpawnOnAnotherNode(t *testing.T) {
	a, b := twoNodes(t)
	allowEcho(t, b, nil)
	pid, err := a.SpawnOn(ctxT(t), b.Address(), "echo", wrapperspb.String("b says "), WithName("e"))
	if err != nil {
		t.Fatal(err)
	}
	if pid.Address != b.Address() || !b.Alive(pid) {
		t.Fatalf("pid %v is not a live process of b", pid)
	}
	v, err := a.Call(ctxT(t), NamedPID(b.Address(), "e"), wrapperspb.String("hi"))
	if err != nil || v.(*wrapperspb.StringValue).GetValue() != "b says hi" {
		t.Fatalf("call = %v, %v", v, err)
	}
	if _, err := a.SpawnOn(ctxT(t), b.Address(), "echo", nil, WithName("e")); !errors.Is(err, ErrNameTaken) {
		t.Fatalf("SpawnOn with a name taken there = %v; want ErrNameTaken", err)
	}
	// This node's own address spawns here, through the same factories.
	allowEcho(t, a, nil)
	local, err := a.SpawnOn(ctxT(t), a.Address(), "echo", nil)
	if err != nil || !a.Alive(local) {
		t.Fatalf("local SpawnOn = %v, %v", local, err)
	}
	if s := b.Stats(); s.Spawned != 1 {
		t.Fatalf("b.Stats().Spawned = %d; want 1", s.Spawned)
	}
}

func TestSpawnOnErrors(t *testing.T) {
	a, b := twoNodes(t)
	allowEcho(t, b, nil, "127.0.0.1:1") // another node only
	boom := errors.New("boom")
	_ = b.AllowSpawn("badinit", func(proto.Message) (Server, error) {
		return &fn{init: func(*Process) error { return boom }}, nil
	})
	_ = b.AllowSpawn("badargs", func(proto.Message) (Server, error) { return nil, errors.New("want a name") })
	_ = b.AllowSpawn("panics", func(proto.Message) (Server, error) { panic("factory bug") })
	_ = b.AllowSpawn("gone", func(proto.Message) (Server, error) { return &fn{}, nil })
	b.DisallowSpawn("gone")
	cases := []struct {
		name string
		want error
		text string
	}{
		{"nothing", ErrUnknownSpawn, `"nothing"`},
		{"gone", ErrUnknownSpawn, `"gone"`},
		{"echo", ErrSpawnRefused, a.Address()},
		{"badinit", ErrInit, "boom"},
		{"badargs", ErrInit, "want a name"},
		{"panics", ErrInit, "factory bug"},
	}
	for _, c := range cases {
		start := time.Now()
		_, err := a.SpawnOn(ctxT(t), b.Address(), c.name, nil)
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.text) {
			t.Errorf("SpawnOn %q = %v; want %v with %q", c.name, err, c.want, c.text)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("SpawnOn %q took %v; want an answer at once", c.name, d)
		}
	}
	if s := b.Stats(); s.SpawnsRefused != 3 || s.Spawned != 3 || s.Processes != 0 {
		t.Errorf("b.Stats() = %+v; want 3 refused, 3 started and none left", s)
	}
	if err := b.AllowSpawn("", nil); !errors.Is(err, ErrInvalidSpawn) {
		t.Errorf("AllowSpawn without a factory = %v; want ErrInvalidSpawn", err)
	}
	// A node that is not there: ErrNodeDown, not the deadline.
	start := time.Now()
	if _, err := a.SpawnOn(ctxT(t), "127.0.0.1:1", "echo", nil); !errors.Is(err, ErrNodeDown) {
		t.Errorf("SpawnOn an unreachable node = %v; want ErrNodeDown", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("SpawnOn an unreachable node took %v", d)
	}
}

// An Init that outlives the caller's deadline: the caller gets ErrTimeout
// and the node that ran it kills the process, leaving nothing behind.
func TestSpawnOnDeadline(t *testing.T) {
	a, b := twoNodes(t)
	release := make(chan struct{})
	started := make(chan *Process, 1)
	_ = b.AllowSpawn("slow", func(proto.Message) (Server, error) {
		return &fn{init: func(p *Process) error { started <- p; <-release; return nil }}, nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := a.SpawnOn(ctx, b.Address(), "slow", nil)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("SpawnOn = %v; want ErrTimeout", err)
	}
	p := recv(t, started)
	select {
	case <-p.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the slow process still runs 10 s after its caller's deadline")
	}
	close(release)
	if !errors.Is(p.ExitReason(), ErrKilled) {
		t.Fatalf("exit reason %v; want ErrKilled", p.ExitReason())
	}
}

// spawn_link and spawn_monitor to another node: the remote exit reaches
// the linker (as an Exit, trapped) and the monitor (as a Down) with its
// reason; the linker's exit reaches the remote process.
func TestSpawnLinkAndMonitorOn(t *testing.T) {
	a, b := twoNodes(t)
	remote := make(chan any, 8)
	allowEcho(t, b, remote)
	infos := make(chan any, 8)
	type spawned struct {
		pid *PID
		ref Ref
		err error
	}
	linker := spawn(t, a, &fn{infos: infos, call: func(p *Process, msg any) (any, error) {
		var s spawned
		switch msg {
		case "link":
			s.pid, s.err = p.SpawnLinkOn(ctxT(t), b.Address(), "echo", nil, WithTrapExit())
		case "monitor":
			s.pid, s.ref, s.err = p.SpawnMonitorOn(ctxT(t), b.Address(), "echo", nil)
		case "both":
			s.pid, s.err = p.SpawnLinkOn(ctxT(t), b.Address(), "echo", nil)
			if s.err == nil {
				s.ref = p.Monitor(s.pid)
			}
		case "quit":
			p.Stop(errors.New("linker quits"))
		}
		return s, nil
	}}, WithTrapExit())
	call := func(msg string) spawned {
		v, err := a.Call(ctxT(t), linker, msg)
		if err != nil {
			t.Fatal(err)
		}
		s := v.(spawned)
		if s.err != nil {
			t.Fatalf("%s: %v", msg, s.err)
		}
		return s
	}
	// The remote process stops with "boom": an Exit and a Down, with it.
	s := call("both")
	if _, err := a.Call(ctxT(t), s.pid, wrapperspb.String("stop:boom")); err != nil {
		t.Fatal(err)
	}
	d, e := recvDownAndExit(t, infos)
	if d.Ref != s.ref || !d.PID.Equal(s.pid) || d.Reason.Error() != "boom" || !e.From.Equal(s.pid) || e.Reason.Error() != "boom" {
		t.Fatalf("down %+v, exit %+v; want both from %v with boom", d, e, s.pid)
	}
	m := call("monitor")
	if _, err := a.Call(ctxT(t), m.pid, wrapperspb.String("stop:bang")); err != nil {
		t.Fatal(err)
	}
	if d := recvInfo[Down](t, infos); d.Ref != m.ref || d.Reason.Error() != "bang" {
		t.Fatalf("down %+v; want ref %v, bang", d, m.ref)
	}
	// The linker quits: the remote process (trapping exits) hears it.
	l := call("link")
	if _, err := a.Call(ctxT(t), linker, "quit"); err != nil {
		t.Fatal(err)
	}
	ex := recvInfo[Exit](t, remote)
	if !ex.From.Equal(linker) || ex.Reason.Error() != "linker quits" {
		t.Fatalf("remote got %+v; want the linker's exit", ex)
	}
	_ = l
}

// A process that exits right after its Init, before its PID is back with
// the caller: the link and monitor were in place before it ran, so the
// caller gets its real exit reason, not ErrNoProcess.
func TestSpawnLinkOnExitRightAfterInit(t *testing.T) {
	a, b := twoNodes(t)
	_ = b.AllowSpawn("brief", func(proto.Message) (Server, error) {
		return &fn{
			init: func(p *Process) error { return p.Send(p.Self(), wrapperspb.String("die")) },
			info: func(p *Process, _ any) { p.Stop(errors.New("died young")) },
		}, nil
	})
	for _, monitor := range []bool{false, true} {
		infos := make(chan any, 8)
		caller := spawn(t, a, &fn{infos: infos, call: func(p *Process, _ any) (any, error) {
			if monitor {
				_, _, err := p.SpawnMonitorOn(ctxT(t), b.Address(), "brief", nil)
				return nil, err
			}
			_, err := p.SpawnLinkOn(ctxT(t), b.Address(), "brief", nil)
			return nil, err
		}}, WithTrapExit())
		if _, err := a.Call(ctxT(t), caller, nil); err != nil {
			t.Fatal(err)
		}
		var reason error
		if monitor {
			reason = recvInfo[Down](t, infos).Reason
		} else {
			reason = recvInfo[Exit](t, infos).Reason
		}
		if reason == nil || reason.Error() != "died young" {
			t.Errorf("monitor %v: reason %v; want died young", monitor, reason)
		}
	}
}
