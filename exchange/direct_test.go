package exchange

import (
	"context"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
)

// busyExchange is an exchange whose goroutine a call "block" holds until
// gate closes.
type busyExchange struct {
	*server
	busy, gate chan struct{}
}

func (b *busyExchange) HandleCall(p *actor.Process, msg any) (any, error) {
	if s, ok := msg.(*wrapperspb.StringValue); ok && s.Value == "block" {
		b.busy <- struct{}{}
		<-b.gate
		return s, nil
	}
	return b.server.HandleCall(p, msg)
}

// joiner is a controller that answers every request with "pong".
type joiner struct {
	actor.BaseServer
	m      Membership
	joined chan struct{}
}

func (j *joiner) Init(p *actor.Process) error { j.m.Join(p); return nil }

func (j *joiner) HandleInfo(p *actor.Process, msg any) {
	if _, ok := j.m.Handle(p, msg).(*Leader); ok {
		j.joined <- struct{}{}
	}
}

func (j *joiner) HandleCall(_ *actor.Process, msg any) (any, error) {
	if _, ok, err := AsRequest(msg, 0); ok {
		return wrapperspb.String("pong"), err
	}
	return nil, actor.ErrUnhandled
}

// A request from a client of the exchange's own node is routed on the
// client's goroutine: it reaches its controller while the exchange's
// goroutine is held.
func TestInNodeRequestBypassesTheExchangesGoroutine(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n, err := actor.Start(actor.Config{Name: "a@localhost"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = n.Stop(context.Background()) }()
	spec := Spec{Name: "x", Strategy: RoundRobin}
	if err := spec.Validate(); err != nil {
		t.Fatal(err)
	}
	ex := &busyExchange{server: newServer(spec), busy: make(chan struct{}, 1), gate: make(chan struct{})}
	defer close(ex.gate)
	expid, err := n.Spawn(ctx, ex, actor.WithName(RegisteredName("x")))
	if err != nil {
		t.Fatal(err)
	}
	j := &joiner{m: Membership{Exchange: Named("x")}, joined: make(chan struct{}, 1)}
	if _, err := n.Spawn(ctx, j); err != nil {
		t.Fatal(err)
	}
	<-j.joined
	go func() { _, _ = n.Call(ctx, expid, wrapperspb.String("block")) }()
	select {
	case <-ex.busy:
	case <-ctx.Done():
		t.Fatal("the exchange did not take the blocking call")
	}
	pend := n.NewPending(ctx, n.Address(), false)
	defer pend.Release()
	req := NewRequest("x", wrapperspb.String("ping"), pend.ReplyTo(), false)
	req.Deadline = time.Now().Add(time.Minute)
	if err := req.ForwardTo(n, Named("x").PID(n)); err != nil {
		t.Fatal(err)
	}
	v, err := pend.Wait(ctx)
	if err != nil {
		t.Fatalf("request while the exchange is busy: %v", err)
	}
	if s, ok := v.(*wrapperspb.StringValue); !ok || s.Value != "pong" {
		t.Fatalf("reply %v", v)
	}
	if got := ex.routed.Load(); got != 1 {
		t.Fatalf("routed %d; want 1", got)
	}
}
