package actor

import (
	"context"
	"testing"
	"time"
)

// fn is a test server whose callbacks are closures; nil ones use BaseServer.
type fn struct {
	BaseServer
	init  func(p *Process) error
	call  func(p *Process, msg any) (any, error)
	info  func(p *Process, msg any)
	term  func(p *Process, reason error)
	infos chan any // every HandleInfo message, if set
}

func (s *fn) Init(p *Process) error {
	if s.init != nil {
		return s.init(p)
	}
	return nil
}

func (s *fn) HandleCall(p *Process, msg any) (any, error) {
	if s.call != nil {
		return s.call(p, msg)
	}
	return msg, nil // echo
}

func (s *fn) HandleCast(p *Process, msg any) {
	if f, ok := msg.(func(*Process)); ok {
		f(p)
	}
}

func (s *fn) HandleInfo(p *Process, msg any) {
	if s.info != nil {
		s.info(p, msg)
	}
	if s.infos != nil {
		s.infos <- msg
	}
}

func (s *fn) Terminate(p *Process, reason error) {
	if s.term != nil {
		s.term(p, reason)
	}
}

func newNode(t testing.TB, cfg Config) *Node {
	t.Helper()
	n, err := Start(cfg)
	if err != nil {
		t.Fatalf("start node: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := n.Stop(ctx); err != nil {
			t.Errorf("stop node: %v", err)
		}
	})
	return n
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func spawn(t testing.TB, n *Node, s Server, opts ...SpawnOption) *PID {
	t.Helper()
	pid, err := n.Spawn(ctxT(t), s, opts...)
	if err != nil {
		t.Fatalf("spawn: %v", err)
	}
	return pid
}

// recv waits for one value on ch, failing the test after a deadline.
func recv[T any](t testing.TB, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("timed out waiting for a message")
		panic("unreachable")
	}
}

// closedWithin receives once from ch and reports whether a value came
// (true) or ch was closed (false), failing the test if neither happens
// within 10 s.
func closedWithin[T any](t testing.TB, ch <-chan T) (open bool) {
	t.Helper()
	select {
	case _, open = <-ch:
		return open
	case <-time.After(10 * time.Second):
		t.Fatal("the channel neither closed nor delivered within 10 s")
		return false
	}
}

// recvInfo waits for the first HandleInfo message of type T.
func recvInfo[T any](t testing.TB, ch <-chan any) T {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case v := <-ch:
			if m, ok := v.(T); ok {
				return m
			}
		case <-deadline:
			var zero T
			t.Fatalf("timed out waiting for %T", zero)
		}
	}
}

func yieldBriefly() { time.Sleep(10 * time.Microsecond) }
