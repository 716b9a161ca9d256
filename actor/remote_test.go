package actor

import (
	"context"
	"errors"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"
)

func twoNodes(t *testing.T) (*Node, *Node) {
	a := newNode(t, Config{Name: "a@localhost", Listen: "127.0.0.1:0"})
	b := newNode(t, Config{Name: "b@localhost", Listen: "127.0.0.1:0"})
	return a, b
}

func TestRemoteCall(t *testing.T) {
	a, b := twoNodes(t)
	pid := spawn(t, b, &fn{call: func(_ *Process, msg any) (any, error) {
		if s := msg.(*wrapperspb.StringValue); s.Value == "fail" {
			return nil, ErrUnhandled
		}
		return wrapperspb.String("pong"), nil
	}})
	got, err := a.Call(ctxT(t), pid, wrapperspb.String("ping"))
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := got.(*wrapperspb.StringValue); !ok || s.Value != "pong" {
		t.Fatalf("reply = %v", got)
	}
	if _, err := a.Call(ctxT(t), pid, wrapperspb.String("fail")); !errors.Is(err, ErrUnhandled) {
		t.Fatalf("remote error = %v; want ErrUnhandled", err)
	}
	if _, err := a.Call(ctxT(t), pid, "not proto"); !errors.Is(err, ErrNotSerializable) {
		t.Fatalf("non-proto = %v; want ErrNotSerializable", err)
	}
	start := time.Now()
	if _, err := a.Call(ctxT(t), NewPID(b.Address(), "ghost"), wrapperspb.String("x")); !errors.Is(err, ErrNoProcess) {
		t.Fatalf("dead remote = %v; want ErrNoProcess", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("dead remote pid took %v", d)
	}
}

func TestRemoteMonitorAndLink(t *testing.T) {
	a, b := twoNodes(t)
	boom := errors.New("boom")
	target := spawn(t, b, &fn{call: func(p *Process, _ any) (any, error) { p.Stop(boom); return nil, nil }})
	infos := make(chan any, 8)
	watcher := spawn(t, a, &fn{infos: infos, call: func(p *Process, msg any) (any, error) {
		p.Link(target)
		return p.Monitor(target), nil
	}}, WithTrapExit())
	ref, err := a.Call(ctxT(t), watcher, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Call(ctxT(t), target, wrapperspb.String("stop")); err != nil {
		t.Fatal(err)
	}
	d, e := recvDownAndExit(t, infos)
	var re *RemoteError
	if d.Ref != ref.(Ref) || !d.PID.Equal(target) || !errors.As(d.Reason, &re) || re.Text != "boom" {
		t.Fatalf("down = %+v; want ref %v and reason boom", d, ref)
	}
	if !e.From.Equal(target) || !errors.As(e.Reason, &re) || re.Text != "boom" {
		t.Fatalf("exit = %+v; want from target, reason boom", e)
	}
	// Monitoring a remote pid that does not exist fires at once.
	ghost := NewPID(b.Address(), "ghost")
	mon := spawn(t, a, &fn{infos: infos, call: func(p *Process, _ any) (any, error) { return p.Monitor(ghost), nil }})
	if _, err := a.Call(ctxT(t), mon, nil); err != nil {
		t.Fatal(err)
	}
	if d := recvInfo[Down](t, infos); !errors.Is(d.Reason, ErrNoProcess) {
		t.Fatalf("down of remote ghost: %v", d.Reason)
	}
}

// A remote node killed with SIGKILL: monitors fire with ErrNodeDown, links
// break with it, and a call waiting on that node fails with it.
func TestRemoteNodeKilled(t *testing.T) {
	a := newNode(t, Config{Name: "a@localhost", Listen: "127.0.0.1:0"})
	target, child := startChild(t)
	if _, err := a.Call(ctxT(t), target, wrapperspb.String("hello")); err != nil {
		t.Fatalf("call child: %v", err)
	}
	infos := make(chan any, 8)
	watcher := spawn(t, a, &fn{infos: infos, call: func(p *Process, _ any) (any, error) {
		p.Link(target)
		return p.Monitor(target), nil
	}}, WithTrapExit())
	if _, err := a.Call(ctxT(t), watcher, nil); err != nil {
		t.Fatal(err)
	}
	// Frames from one node to another keep their order: once a call sent
	// after the Monitor is answered, the monitor is in place.
	if _, err := a.Call(ctxT(t), target, wrapperspb.String("sync")); err != nil {
		t.Fatal(err)
	}
	callErr := make(chan error, 1)
	go func() {
		_, err := a.Call(context.Background(), target, wrapperspb.String("block"))
		callErr <- err
	}()
	killedAt := time.Now()
	if err := child.Cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	d, e := recvDownAndExit(t, infos)
	t.Logf("node-down seen %v after SIGKILL", time.Since(killedAt))
	if !errors.Is(d.Reason, ErrNodeDown) || !d.PID.Equal(target) {
		t.Fatalf("down = %+v; want ErrNodeDown", d)
	}
	if !errors.Is(e.Reason, ErrNodeDown) || !e.From.Equal(target) {
		t.Fatalf("exit = %+v; want ErrNodeDown", e)
	}
	if err := recv(t, callErr); !errors.Is(err, ErrNodeDown) {
		t.Fatalf("pending call: %v; want ErrNodeDown", err)
	}
}

// recvDownAndExit waits for one Down and one Exit, in either order.
func recvDownAndExit(t *testing.T, infos <-chan any) (d Down, e Exit) {
	t.Helper()
	var gotD, gotE bool
	deadline := time.After(10 * time.Second)
	for !gotD || !gotE {
		select {
		case m := <-infos:
			switch m := m.(type) {
			case Down:
				d, gotD = m, true
			case Exit:
				e, gotE = m, true
			}
		case <-deadline:
			t.Fatalf("timed out: down %v exit %v", gotD, gotE)
		}
	}
	return d, e
}

// A message over the frame limit is the sender's error, not a dead peer;
// a reply over the limit reaches the caller as an error, not as silence.
func TestRemoteMessageTooLarge(t *testing.T) {
	a := newNode(t, Config{Name: "a@localhost", Listen: "127.0.0.1:0", MaxFrameSize: 1024})
	b := newNode(t, Config{Name: "b@localhost", Listen: "127.0.0.1:0", MaxFrameSize: 1024})
	big := wrapperspb.String(string(make([]byte, 4096)))
	pid := spawn(t, b, &fn{call: func(_ *Process, msg any) (any, error) {
		if msg.(*wrapperspb.StringValue).Value == "big" {
			return big, nil
		}
		return msg, nil
	}})
	if _, err := a.Call(ctxT(t), pid, big); !errors.Is(err, ErrMessageTooLarge) {
		t.Fatalf("big call = %v; want ErrMessageTooLarge", err)
	}
	if _, err := a.Call(ctxT(t), pid, wrapperspb.String("small")); err != nil {
		t.Fatalf("peer treated as down after a refused frame: %v", err)
	}
	if _, err := a.Call(ctxT(t), pid, wrapperspb.String("big")); err == nil || errors.Is(err, ErrTimeout) {
		t.Fatalf("big reply = %v; want an error at once", err)
	}
}

func TestLocalOnlyNodeReachesNoPeer(t *testing.T) {
	n := newNode(t, Config{})
	remote := NewPID("127.0.0.1:1", "$1")
	if _, err := n.Call(ctxT(t), remote, wrapperspb.String("x")); !errors.Is(err, ErrNodeDown) {
		t.Fatalf("call = %v; want ErrNodeDown", err)
	}
	infos := make(chan any, 1)
	spawn(t, n, &fn{infos: infos, init: func(p *Process) error { p.Monitor(remote); return nil }})
	if d := recvInfo[Down](t, infos); !errors.Is(d.Reason, ErrNodeDown) {
		t.Fatalf("down = %+v", d)
	}
}
