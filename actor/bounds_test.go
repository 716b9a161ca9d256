package actor

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/internal/transport"
)

// waitUntil polls cond every millisecond for up to 10 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10 s", what)
		}
	}
}

// A node whose peer stops reading fills that peer's queue to
// MaxPeerQueueBytes; then Cast, Send and Call return ErrOverloaded at
// once, counted, until the peer reads again.
func TestSendToStalledNodeIsOverloaded(t *testing.T) {
	const bound = 256 << 10
	// Long ticks: b's reader is held on purpose, and a tick is not a frame.
	a := newNode(t, Config{Name: "a@localhost", Listen: "127.0.0.1:0", TickTime: time.Minute, Limits: Limits{MaxPeerQueueBytes: bound}})
	b := newNode(t, Config{Name: "b@localhost", Listen: "127.0.0.1:0", TickTime: time.Minute})
	gate, stalled := make(chan struct{}), make(chan struct{}, 1)
	release := sync.OnceFunc(func() { close(gate) })
	t.Cleanup(release) // before the nodes stop
	// A call "stall" holds the reader of a's connection on b, which then
	// reads nothing more from a: a node that does not read.
	via := spawn(t, b, &fn{init: func(p *Process) error {
		p.HandleDirect(func(msg any, rt ReplyTo) bool {
			if s, ok := msg.(*wrapperspb.StringValue); !ok || s.Value != "stall" {
				return false
			}
			stalled <- struct{}{}
			<-gate
			b.Reply(rt, msg, nil)
			return true
		})
		return nil
	}})
	if _, err := a.Call(ctxT(t), via, wrapperspb.String("hi")); err != nil {
		t.Fatal(err)
	}
	stallErr := make(chan error, 1)
	go func() {
		_, err := a.Call(ctxT(t), via, wrapperspb.String("stall"))
		stallErr <- err
	}()
	recv(t, stalled)
	msg := wrapperspb.Bytes(make([]byte, 1<<10))
	// fill casts until the queue is full; the sockets may still take some
	// meanwhile, so an operation tried next may fit: it is tried again
	// after another fill.
	casts := 0
	fill := func() error {
		for start := time.Now(); time.Since(start) < 30*time.Second; casts++ {
			if err := a.Cast(via, msg); err != nil {
				return err
			}
		}
		t.Fatalf("no error after %d casts in 30 s", casts)
		return nil
	}
	err := fill()
	if !errors.Is(err, ErrOverloaded) || !errors.Is(err, transport.ErrOverloaded) {
		t.Fatalf("cast = %v; want ErrOverloaded", err)
	}
	t.Logf("%d casts of 1 KiB sent, then %v", casts, err)
	overloaded := func(what string, op func() error) {
		t.Helper()
		var err error
		for range 100 {
			_ = fill()
			if err = op(); errors.Is(err, ErrOverloaded) {
				return
			}
		}
		t.Fatalf("%s = %v; want ErrOverloaded", what, err)
	}
	overloaded("send", func() error { return a.Send(via, msg) })
	overloaded("call", func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		start := time.Now()
		_, err := a.Call(ctx, via, msg)
		if d := time.Since(start); errors.Is(err, ErrOverloaded) && d > 500*time.Millisecond {
			t.Fatalf("the overloaded call took %v; want at once", d)
		}
		return err
	})
	s := a.Stats()
	if s.Overloaded < 3 || s.QueuedBytes > bound {
		t.Fatalf("stats %+v; want 3 overloaded or more, at most %d bytes queued", s, bound)
	}
	release()
	if err := recv(t, stallErr); err != nil {
		t.Fatalf("the stalled call: %v", err)
	}
	waitUntil(t, "casts go again", func() bool { return a.Cast(via, msg) == nil })
	if _, err := a.Call(ctxT(t), via, wrapperspb.String("again")); err != nil {
		t.Fatalf("call after the peer reads again: %v", err)
	}
}

// Node.Stats().BadFrames counts the frames the transport refused too (it
// stayed at 0 while the transport counted them).
func TestBadFramesCountsTheTransports(t *testing.T) {
	a := newNode(t, Config{Name: "a@localhost", Listen: "127.0.0.1:0", MaxFrameSize: 1000, Logger: slog.New(slog.DiscardHandler)})
	b := newNode(t, Config{Name: "b@localhost", Listen: "127.0.0.1:0"})
	pid, got := echoCounting(t, a)
	if err := b.Cast(pid, wrapperspb.Bytes(make([]byte, 2000))); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the bad frame is counted", func() bool { return a.Stats().BadFrames == 1 })
	if got.Load() != 0 {
		t.Fatal("the oversized frame was delivered")
	}
}
