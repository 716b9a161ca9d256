package actor

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	pa "github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Regression tests for bugs found in review.

// Sending to a NamedPID while its holder restarts never reaches a process
// whose mailbox does not exist yet: every send and call through the name,
// racing 300 restarts, either reaches a holder (the call is answered) or
// finds none (ErrNoProcess), and each new holder answers through the name.
func TestNamedSendDuringRestarts(t *testing.T) {
	n := newNode(t, Config{})
	named := NamedPID(n.Address(), "svc")
	callNamed := func(msg string) (any, error) { // a deadline per call: the test's length varies with the load
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return n.Call(ctx, named, msg)
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	var answered, missed atomic.Int64
	bad := make(chan error, 4)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				if err := n.Send(named, "hello"); err != nil {
					bad <- fmt.Errorf("Send through the name = %w", err)
					return
				}
				switch v, err := callNamed("hello"); {
				case err == nil && v == "hello":
					answered.Add(1)
				case errors.Is(err, ErrNoProcess): // between two holders
					missed.Add(1)
				default:
					bad <- fmt.Errorf("Call through the name = %v, %v; want hello or ErrNoProcess", v, err)
					return
				}
			}
		}()
	}
	fail := func(format string, args ...any) {
		t.Helper()
		stop.Store(true)
		wg.Wait()
		t.Fatalf(format, args...)
	}
	for i := 0; i < 300; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		pid, err := n.Spawn(ctx, &fn{}, WithName("svc"))
		cancel()
		if err != nil {
			fail("restart %d: Spawn = %v", i, err)
		}
		if v, err := callNamed("ping"); err != nil || v != "ping" {
			fail("restart %d: Call through the name = %v, %v; want the new holder's ping", i, v, err)
		}
		// The next Spawn may take the name only once this holder is gone.
		down, cancel := n.Watch(pid)
		n.Exit(pid, ErrKill)
		select {
		case <-down:
		case <-time.After(10 * time.Second):
			fail("restart %d: holder not down 10 s after its kill", i)
		}
		cancel()
	}
	stop.Store(true)
	wg.Wait()
	close(bad)
	for err := range bad {
		t.Error(err)
	}
	t.Logf("calls through the name racing the restarts: %d answered, %d between holders", answered.Load(), missed.Load())
}

// A process killed while its Init still runs cannot link children: its
// SpawnLink fails, and the child's name is not left taken.
func TestSpawnLinkFromKilledParent(t *testing.T) {
	n := newNode(t, Config{})
	self := make(chan *PID, 1)
	release := make(chan struct{})
	linkErr := make(chan error, 1)
	go func() {
		_, _ = n.Spawn(context.Background(), &fn{init: func(p *Process) error {
			self <- p.Self()
			<-release
			_, err := p.SpawnLink(context.Background(), &fn{}, WithName("second"))
			linkErr <- err
			return err
		}})
	}()
	parent := recv(t, self)
	n.Exit(parent, ErrKill)
	close(release)
	if err := recv(t, linkErr); !errors.Is(err, ErrNoProcess) {
		t.Fatalf("SpawnLink from a killed parent = %v; want ErrNoProcess", err)
	}
	if n.Whereis("second") != nil {
		t.Fatal("the child's name stayed taken")
	}
	if _, err := n.Spawn(ctxT(t), &fn{}, WithName("second")); err != nil {
		t.Fatalf("name not reusable: %v", err)
	}
}

// A Spawn that times out while Init goes on starting children: Init's
// SpawnLink fails cleanly and the node still stops in time.
func TestSpawnTimeoutThenSpawnLink(t *testing.T) {
	n, err := Start(Config{})
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	linked := make(chan error, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err = n.Spawn(ctx, &fn{init: func(p *Process) error {
		<-release
		_, err := p.SpawnLink(context.Background(), &fn{})
		linked <- err
		return err
	}})
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("spawn = %v", err)
	}
	close(release)
	if err := recv(t, linked); !errors.Is(err, ErrNoProcess) {
		t.Fatalf("SpawnLink = %v", err)
	}
	sctx, scancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer scancel()
	if err := n.Stop(sctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
}

// No process started concurrently with Stop outlives it.
func TestStopDuringSpawns(t *testing.T) {
	for i := 0; i < 100; i++ {
		n, err := Start(Config{})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				if _, err := n.Spawn(context.Background(), &fn{}); err != nil {
					return
				}
			}
		}()
		for deadline := time.Now().Add(10 * time.Second); n.Stats().Processes < i%5; yieldBriefly() {
			if time.Now().After(deadline) {
				sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
				_ = n.Stop(sctx) // ends the spawning goroutine
				scancel()
				t.Fatalf("iteration %d: %d processes after 10 s of spawning; want %d", i, n.Stats().Processes, i%5)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = n.Stop(ctx)
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("iteration %d: Spawn still succeeds 10 s after Stop returned", i)
		}
		if got := n.Stats().Processes; got != 0 {
			t.Fatalf("iteration %d: %d processes alive after Stop", i, got)
		}
	}
}

// protoactor's control messages sent as data (a PoisonPill from another
// node) reach HandleInfo and do not stop the process behind its back.
func TestPoisonPillIsData(t *testing.T) {
	a, b := twoNodes(t)
	infos := make(chan any, 4)
	pid := spawn(t, b, &fn{infos: infos})
	if err := a.Send(pid, &pa.PoisonPill{}); err != nil {
		t.Fatal(err)
	}
	if _, ok := recv(t, infos).(*pa.PoisonPill); !ok {
		t.Fatal("the PoisonPill did not arrive as a message")
	}
	if err := b.Send(pid, &pa.PoisonPill{}); err != nil {
		t.Fatal(err)
	}
	recv(t, infos)
	if _, err := b.Call(ctxT(t), pid, 1); err != nil {
		t.Fatalf("process stopped by a PoisonPill: %v", err)
	}
}

// batch is a user's type that happens to satisfy protoactor's
// MessageBatch, which protoactor's mailbox unpacks.
type batch []any

func (b batch) GetMessages() []any { return b }

// A Send of a value protoactor's mailbox would unpack (a MessageBatch, or
// an envelope holding one) reaches HandleInfo once, as sent, and none of
// its items on their own.
func TestMessageBatchIsData(t *testing.T) {
	n := newNode(t, Config{})
	infos := make(chan any, 8)
	pid := spawn(t, n, &fn{infos: infos})
	sent := []any{batch{"a", "b"}, &pa.MessageEnvelope{Message: batch{"c"}}}
	for _, m := range sent {
		if err := n.Send(pid, m); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := n.Call(ctxT(t), pid, 1); err != nil { // behind both sends
		t.Fatal(err)
	}
	var got []any
	for len(infos) > 0 {
		got = append(got, <-infos)
	}
	if len(got) != 2 {
		t.Fatalf("HandleInfo got %v; want the batch and the envelope, once each", got)
	}
	if b, ok := got[0].(batch); !ok || len(b) != 2 {
		t.Fatalf("first message = %#v; want the batch as sent", got[0])
	}
	if e, ok := got[1].(*pa.MessageEnvelope); !ok || e != sent[1] {
		t.Fatalf("second message = %#v; want the envelope as sent", got[1])
	}
}

func TestStopProcessWithNilReason(t *testing.T) {
	n := newNode(t, Config{})
	pid := spawn(t, n, &fn{})
	if err := n.StopProcess(ctxT(t), pid, nil); err != nil {
		t.Fatalf("StopProcess(nil) = %v", err)
	}
	if n.Alive(pid) {
		t.Fatal("still alive")
	}
}

// A process that exits with reason ErrKill does not kill its links: they
// hear ErrKilled, which a trapping process traps, as in Erlang.
func TestLinkedKillReasonIsTrappable(t *testing.T) {
	n := newNode(t, Config{})
	infos := make(chan any, 4)
	parent := spawn(t, n, &fn{infos: infos, call: func(p *Process, _ any) (any, error) {
		return p.SpawnLink(ctxT(t), &fn{call: func(c *Process, _ any) (any, error) { c.Stop(ErrKill); return nil, nil }})
	}}, WithTrapExit())
	child, err := n.Call(ctxT(t), parent, "spawn")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Call(ctxT(t), child.(*PID), "die"); err != nil {
		t.Fatal(err)
	}
	if e := recvInfo[Exit](t, infos); !errors.Is(e.Reason, ErrKilled) {
		t.Fatalf("exit = %+v; want ErrKilled", e)
	}
	if _, err := n.Call(ctxT(t), parent, "still there?"); err != nil {
		t.Fatalf("trapping parent was killed: %v", err)
	}
}

// An error whose text is not valid UTF-8 reaches a remote caller (its
// text mended), instead of a reply that cannot be encoded and a caller
// left to time out.
func TestRemoteErrorNotUTF8(t *testing.T) {
	a, b := twoNodes(t)
	pid := spawn(t, b, &fn{call: func(*Process, any) (any, error) { return nil, errors.New("bad \xff text") }})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := a.Call(ctx, pid, wrapperspb.String("x"))
	var re *RemoteError
	if !errors.As(err, &re) || re.Text != "bad \uFFFD text" {
		t.Fatalf("Call = %v, want a RemoteError with the mended text", err)
	}
}
