package actor

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func TestCallEcho(t *testing.T) {
	n := newNode(t, Config{})
	pid := spawn(t, n, &fn{})
	got, err := n.Call(ctxT(t), pid, "ping")
	if err != nil || got != "ping" {
		t.Fatalf("call = %v, %v; want ping", got, err)
	}
}

func TestCallErrorIsReturned(t *testing.T) {
	n := newNode(t, Config{})
	boom := errors.New("boom")
	pid := spawn(t, n, &fn{call: func(*Process, any) (any, error) { return nil, boom }})
	if _, err := n.Call(ctxT(t), pid, 1); !errors.Is(err, boom) {
		t.Fatalf("err = %v; want boom", err)
	}
	if _, err := n.Call(ctxT(t), spawn(t, n, &struct{ BaseServer }{}), 1); !errors.Is(err, ErrUnhandled) {
		t.Fatalf("base server err = %v; want ErrUnhandled", err)
	}
}

func TestCallDeadProcessFailsFast(t *testing.T) {
	n := newNode(t, Config{CallTimeout: time.Minute})
	pid := spawn(t, n, &fn{})
	n.Exit(pid, ErrKill)
	start := time.Now()
	if _, err := n.Call(context.Background(), pid, 1); !errors.Is(err, ErrNoProcess) {
		t.Fatalf("err = %v; want ErrNoProcess", err)
	}
	if _, err := n.Call(context.Background(), NewPID(n.Address(), "nobody"), 1); !errors.Is(err, ErrNoProcess) {
		t.Fatalf("unknown pid err = %v; want ErrNoProcess", err)
	}
	// At once, that is well before the minute after which the sweeper
	// would fail them; a bound that holds on a loaded machine too.
	if d := time.Since(start); d > 20*time.Second {
		t.Fatalf("calls to dead processes took %v, not at once (CallTimeout is a minute)", d)
	}
}

// Calls queued behind a process's last message are answered, not lost.
func TestCallsQueuedAtExitAreAnswered(t *testing.T) {
	n := newNode(t, Config{CallTimeout: time.Minute})
	release := make(chan struct{})
	pid := spawn(t, n, &fn{call: func(p *Process, msg any) (any, error) {
		if msg == "stop" {
			<-release
			p.Stop(nil)
		}
		return msg, nil
	}})
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	wg.Add(1)
	// The calls' 10 s deadline bounds the wait; a lost call times out
	// (long before the node's CallTimeout) and fails the test.
	ctx := ctxT(t)
	go func() { defer wg.Done(); _, _ = n.Call(ctx, pid, "stop") }()
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); _, err := n.Call(ctx, pid, i); errs <- err }()
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil && !errors.Is(err, ErrNoProcess) {
			t.Fatalf("queued call: %v; want a reply or ErrNoProcess", err)
		}
	}
}

func TestCallTimeout(t *testing.T) {
	n := newNode(t, Config{})
	block := make(chan struct{})
	defer close(block)
	pid := spawn(t, n, &fn{call: func(*Process, any) (any, error) { <-block; return nil, nil }})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := n.Call(ctx, pid, 1)
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v; want ErrTimeout and DeadlineExceeded", err)
	}
}

func TestDeferredReply(t *testing.T) {
	n := newNode(t, Config{})
	var held []ReplyTo
	pid := spawn(t, n, &fn{call: func(p *Process, msg any) (any, error) {
		if msg == "flush" {
			for i, r := range held {
				p.Node().Reply(r, i, nil)
			}
			held = nil
			return "flushed", nil
		}
		held = append(held, p.DeferReply())
		return "ignored", nil
	}})
	res := make(chan any, 2)
	for i := 0; i < 2; i++ {
		go func() { v, _ := n.Call(ctxT(t), pid, "wait"); res <- v }()
	}
	// Both calls must be held before the flush; poll the server's state through calls.
	deadline := time.Now().Add(5 * time.Second)
	for {
		v, _ := n.Call(ctxT(t), pid, "flush")
		if v != "flushed" {
			t.Fatal("flush failed")
		}
		if len(res) == 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	a, b := recv(t, res), recv(t, res)
	if a == "ignored" || b == "ignored" {
		t.Fatalf("deferred call got HandleCall's return value: %v %v", a, b)
	}
}

func TestPanicInHandlerCrashesOnlyTheProcess(t *testing.T) {
	n := newNode(t, Config{})
	pid := spawn(t, n, &fn{call: func(*Process, any) (any, error) { panic("bad input") }})
	_, err := n.Call(ctxT(t), pid, 1)
	var pe *PanicError
	if !errors.As(err, &pe) || pe.Value != "bad input" {
		t.Fatalf("err = %v; want the *PanicError of the crash", err)
	}
	reason, werr := n.Wait(ctxT(t), pid)
	if werr != nil && !errors.Is(werr, ErrNoProcess) {
		t.Fatal(werr)
	}
	if werr == nil && !errors.As(reason, &pe) {
		t.Fatalf("exit reason %v; want *PanicError", reason)
	}
	if n.Stats().Crashes != 1 {
		t.Fatalf("crashes = %d; want 1", n.Stats().Crashes)
	}
	// The node is fine.
	if v, err := n.Call(ctxT(t), spawn(t, n, &fn{}), "ok"); err != nil || v != "ok" {
		t.Fatalf("node unusable after crash: %v %v", v, err)
	}
}

func TestInitErrorIsReported(t *testing.T) {
	n := newNode(t, Config{})
	boom := errors.New("no config")
	_, err := n.Spawn(ctxT(t), &fn{init: func(*Process) error { return boom }}, WithName("svc"))
	if !errors.Is(err, ErrInit) || !errors.Is(err, boom) {
		t.Fatalf("err = %v; want ErrInit wrapping the cause", err)
	}
	_, err = n.Spawn(ctxT(t), &fn{init: func(*Process) error { panic("init panic") }})
	var pe *PanicError
	if !errors.Is(err, ErrInit) || !errors.As(err, &pe) {
		t.Fatalf("err = %v; want ErrInit wrapping a *PanicError", err)
	}
	if n.Whereis("svc") != nil {
		t.Fatal("failed start kept its name")
	}
	if got := n.Stats().Processes; got != 0 {
		t.Fatalf("%d processes left after failed starts", got)
	}
}

func TestSpawnTimeoutKillsTheProcess(t *testing.T) {
	n := newNode(t, Config{})
	block := make(chan struct{})
	defer close(block)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := n.Spawn(ctx, &fn{init: func(*Process) error { <-block; return nil }}, WithName("slow"))
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v; want ErrTimeout", err)
	}
	if n.Whereis("slow") != nil {
		t.Fatal("timed-out start kept its name")
	}
}

func TestRegistry(t *testing.T) {
	n := newNode(t, Config{})
	a := spawn(t, n, &fn{}, WithName("a"))
	if got := n.Whereis("a"); !got.Equal(a) {
		t.Fatalf("whereis a = %v", got)
	}
	if _, err := n.Spawn(ctxT(t), &fn{}, WithName("a")); !errors.Is(err, ErrNameTaken) {
		t.Fatalf("duplicate name err = %v", err)
	}
	b := spawn(t, n, &fn{})
	if err := n.Register("a", b); !errors.Is(err, ErrNameTaken) {
		t.Fatalf("register taken = %v", err)
	}
	if err := n.Register("b", b); err != nil {
		t.Fatal(err)
	}
	if err := n.Register("b2", b); !errors.Is(err, ErrAlreadyNamed) {
		t.Fatalf("second name err = %v", err)
	}
	if !n.Unregister("b") || n.Whereis("b") != nil {
		t.Fatal("unregister b failed")
	}
	n.Exit(a, ErrKill)
	if n.Whereis("a") != nil {
		t.Fatal("name survived its process")
	}
	// The name is free for a new process, as after a restart.
	if a2 := spawn(t, n, &fn{}, WithName("a")); !n.Whereis("a").Equal(a2) {
		t.Fatal("name not reusable")
	}
	if err := n.Register("x", NewPID(n.Address(), "gone")); !errors.Is(err, ErrNoProcess) {
		t.Fatalf("register dead = %v", err)
	}
}

func TestCastAndSend(t *testing.T) {
	n := newNode(t, Config{})
	infos := make(chan any, 4)
	pid := spawn(t, n, &fn{infos: infos})
	if err := n.Send(pid, "hello"); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, infos); got != "hello" {
		t.Fatalf("info = %v", got)
	}
	done := make(chan struct{})
	if err := n.Cast(pid, func(*Process) { close(done) }); err != nil {
		t.Fatal(err)
	}
	recv(t, done)
	if err := n.Send(NewPID(n.Address(), "gone"), "x"); err != nil {
		t.Fatalf("send to dead pid = %v; want nil (dropped)", err)
	}
}

// Without a deadline in its context, a call ends after the node's CallTimeout.
func TestCallTimeoutWithoutDeadline(t *testing.T) {
	n := newNode(t, Config{CallTimeout: 100 * time.Millisecond})
	block := make(chan struct{})
	defer close(block)
	pid := spawn(t, n, &fn{call: func(*Process, any) (any, error) { <-block; return nil, nil }})
	start := time.Now()
	_, err := n.Call(context.Background(), pid, 1)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v; want ErrTimeout", err)
	}
	if d := time.Since(start); d < 100*time.Millisecond || d > 2*time.Second {
		t.Fatalf("timed out after %v; want about 100ms", d)
	}
}
