package actor

import (
	"context"
	"errors"
	"net"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/internal/childtest"
	"github.com/switchboard-go/switchboard/internal/transport"
)

// stopChild sends SIGSTOP to c and, at cleanup (before the kill that
// childtest's own cleanup does), SIGCONT.
func stopChild(t *testing.T, c *childtest.Child) {
	t.Helper()
	t.Cleanup(func() { _ = c.Cmd.Process.Signal(syscall.SIGCONT) })
	if err := c.Cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
}

// A node in another OS process stopped with SIGSTOP keeps its connections
// open, yet it is declared down within the tick bound: a call in flight
// fails with ErrNodeDown (naming the silence) and monitors fire. After
// SIGCONT it is reached again, with the same processes.
func TestStoppedNodeIsDeclaredDownAndComesBack(t *testing.T) {
	const tick = time.Second
	a := newNode(t, Config{Name: "a@localhost", Listen: "127.0.0.1:0", TickTime: tick})
	target, child := startChild(t, "SB_TICK="+tick.String())
	if _, err := a.Call(ctxT(t), target, wrapperspb.String("hello")); err != nil {
		t.Fatalf("call child: %v", err)
	}
	downs, cancel := a.Watch(target)
	defer cancel()
	// Frames keep their order: once a call after the monitor is answered,
	// the monitor is in place on the child.
	if _, err := a.Call(ctxT(t), target, wrapperspb.String("sync")); err != nil {
		t.Fatal(err)
	}
	stopChild(t, child)
	stopped := time.Now()
	callErr := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // far past the bound
		defer cancel()
		_, err := a.Call(ctx, target, wrapperspb.String("in flight"))
		callErr <- err
	}()
	select {
	case err := <-callErr:
		took := time.Since(stopped)
		t.Logf("call in flight failed %v after SIGSTOP (tick time %v, bound %v): %v", took, tick, tick+tick/4, err)
		if !errors.Is(err, ErrNodeDown) || !errors.Is(err, transport.ErrPeerTimeout) {
			t.Fatalf("call = %v; want ErrNodeDown from a silent peer", err)
		}
		if took > 3*tick {
			t.Fatalf("declared down after %v; want within 3 × %v", took, tick)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the call to a stopped node did not fail within 20 s")
	}
	if d := recv(t, downs); !errors.Is(d.Reason, ErrNodeDown) {
		t.Fatalf("down = %+v; want ErrNodeDown", d)
	}
	if got := a.Stats().Silent; got == 0 {
		t.Fatal("no silent connection counted")
	}

	if err := child.Cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	resumed := time.Now()
	deadline := resumed.Add(15 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := a.Call(ctx, target, wrapperspb.String("back?"))
		cancel()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no answer within 15 s of SIGCONT: %v", err)
		}
		time.Sleep(20 * time.Millisecond) // the child's process resumes on its own schedule
	}
	t.Logf("answered again %v after SIGCONT", time.Since(resumed))
	for i := range 100 {
		if _, err := a.Call(ctxT(t), target, wrapperspb.String("again")); err != nil {
			t.Fatalf("call %d after SIGCONT: %v", i, err)
		}
	}
}

// A node that restarts at the same address is a new incarnation: the PIDs
// of its old life name no process (ErrNoProcess, not whichever new process
// got the same number), and the new ones work.
func TestRestartedNodeIsANewIncarnation(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	a := newNode(t, Config{Name: "a@localhost", Listen: "127.0.0.1:0"})
	old, child := startChild(t, "SB_LISTEN="+addr)
	if _, err := a.Call(ctxT(t), old, wrapperspb.String("hello")); err != nil {
		t.Fatal(err)
	}
	downs, cancel := a.Watch(old)
	defer cancel()
	if _, err := a.Call(ctxT(t), old, wrapperspb.String("sync")); err != nil {
		t.Fatal(err)
	}
	child.Kill()
	if d := recv(t, downs); !errors.Is(d.Reason, ErrNodeDown) {
		t.Fatalf("down = %+v", d)
	}
	again, _ := startChild(t, "SB_LISTEN="+addr)
	if again.Address != old.Address || again.Id == old.Id {
		t.Fatalf("old %v, new %v: want one address and other ids", FormatPID(old), FormatPID(again))
	}
	if _, err := a.Call(ctxT(t), again, wrapperspb.String("new")); err != nil {
		t.Fatalf("call the new life: %v", err)
	}
	if _, err := a.Call(ctxT(t), old, wrapperspb.String("old")); !errors.Is(err, ErrNoProcess) {
		t.Fatalf("call a process of the old life = %v; want ErrNoProcess", err)
	}
	downs, cancel = a.Watch(old)
	defer cancel()
	if d := recv(t, downs); !errors.Is(d.Reason, ErrNoProcess) {
		t.Fatalf("monitor of the old life: %+v; want ErrNoProcess", d)
	}
}
