package actor

import (
	"errors"
	"testing"

	"google.golang.org/protobuf/types/known/wrapperspb"
)

// A process spawned WithMailboxLimit takes no more than its limit of Sends
// and Casts while it is busy: a local one gets ErrOverloaded, one from
// another node is dropped, both counted; calls still pass, and once it has
// drained it takes messages again.
func TestMailboxLimitRefusesSendsWhileFull(t *testing.T) {
	const limit = 8
	a := newNode(t, Config{Name: "a@localhost", Listen: "127.0.0.1:0"})
	b := newNode(t, Config{Name: "b@localhost", Listen: "127.0.0.1:0"})
	gate, busy := make(chan struct{}), make(chan struct{}, 1)
	got := make(chan any, 4*limit)
	selfErr := make(chan error, 1)
	pid := spawn(t, a, &fn{info: func(p *Process, msg any) {
		if s, ok := msg.(*wrapperspb.StringValue); ok && s.Value == "hold" {
			busy <- struct{}{}
			<-gate
			// Still full: what a process sends itself is always taken.
			selfErr <- p.Send(p.Self(), wrapperspb.Int64(int64(limit)))
			return
		}
		got <- msg
	}}, WithMailboxLimit(limit))
	if err := a.Send(pid, wrapperspb.String("hold")); err != nil {
		t.Fatal(err)
	}
	recv(t, busy)
	for i := range limit {
		if err := a.Send(pid, wrapperspb.Int64(int64(i))); err != nil {
			t.Fatalf("send %d of %d: %v", i, limit, err)
		}
	}
	if n, ok := a.Backlog(pid); !ok || n != limit {
		t.Fatalf("Backlog = %d, %v; want %d, true", n, ok, limit)
	}
	if err := a.Send(pid, wrapperspb.Int64(-1)); !errors.Is(err, ErrOverloaded) {
		t.Fatalf("Send to a full mailbox: %v, want ErrOverloaded", err)
	}
	if err := a.Cast(pid, wrapperspb.Int64(-2)); !errors.Is(err, ErrOverloaded) {
		t.Fatalf("Cast to a full mailbox: %v, want ErrOverloaded", err)
	}
	// From another node: dropped on arrival. A call from b behind it is
	// ordered after it on the connection, and is never refused.
	if err := b.Send(pid, wrapperspb.Int64(-3)); err != nil {
		t.Fatal(err)
	}
	callErr := make(chan error, 1)
	go func() { _, err := b.Call(ctxT(t), pid, wrapperspb.String("call")); callErr <- err }()
	waitUntil(t, "the remote send dropped and the call queued", func() bool {
		n, _ := a.Backlog(pid)
		return a.Stats().MailboxFull == 3 && n == limit+1
	})
	close(gate)
	if err := recv(t, callErr); err != nil {
		t.Fatalf("call to a full mailbox: %v", err)
	}
	if err := recv(t, selfErr); err != nil {
		t.Fatalf("send to itself while full: %v", err)
	}
	for i := range limit + 1 {
		if v := recv(t, got).(*wrapperspb.Int64Value); v.Value != int64(i) {
			t.Fatalf("message %d is %d", i, v.Value)
		}
	}
	if err := a.Send(pid, wrapperspb.Int64(100)); err != nil {
		t.Fatalf("send after draining: %v", err)
	}
	if v := recv(t, got).(*wrapperspb.Int64Value); v.Value != 100 {
		t.Fatalf("got %d after draining, want 100", v.Value)
	}
	if _, ok := a.Backlog(NewPID(a.Address(), "nobody")); ok {
		t.Fatal("Backlog of no process reports one")
	}
}
