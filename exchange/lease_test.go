package exchange

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
)

// runRecorder is a controller that answers every request and sends what
// the exchange set on it to seen.
type runRecorder struct {
	actor.BaseServer
	m    Membership
	seen chan *Request
}

func (s *runRecorder) Init(p *actor.Process) error { s.m.Join(p); return nil }

func (s *runRecorder) HandleInfo(p *actor.Process, msg any) {
	if _, ok := s.m.Handle(p, msg).(*Leader); ok {
		s.seen <- nil
	}
}

func (s *runRecorder) HandleCall(p *actor.Process, msg any) (any, error) {
	req, ok, err := AsRequest(msg, 0)
	if !ok {
		return nil, actor.ErrUnhandled
	}
	s.seen <- req
	return wrapperspb.String("ok"), err
}

// The start bound of a keyed run: on a controller's own node none; to
// another node, no later than the send plus the lease, and, with a lease
// longer than the tick time, no later than the earliest moment the
// exchange's node could declare the controller's node down for silence
// (well within a tick time of the send). Attempts grow with every run.
func TestStartBoundOfKeyedRuns(t *testing.T) {
	const tick = 400 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := func(name string) *actor.Node {
		n, err := actor.Start(actor.Config{Name: name, Listen: "127.0.0.1:0", TickTime: tick, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = n.Stop(context.Background()) })
		return n
	}
	e, c := start("e@localhost"), start("c@localhost")
	var last uint64
	for _, tc := range []struct {
		lease time.Duration
		on    *actor.Node
		max   time.Duration // of the bound after the send; 0: no bound
	}{{time.Hour, c, tick}, {50 * time.Millisecond, c, 50 * time.Millisecond}, {time.Hour, e, 0}} {
		name := "x" + tc.lease.String() + tc.on.Name()
		if _, err := Start(ctx, e, Spec{Name: name, Strategy: RoundRobin, Idempotency: Idempotency{Lease: tc.lease}}); err != nil {
			t.Fatal(err)
		}
		rec := &runRecorder{m: Membership{Exchange: At(e.Address(), name)}, seen: make(chan *Request, 4)}
		if _, err := tc.on.Spawn(ctx, rec); err != nil {
			t.Fatal(err)
		}
		if r := <-rec.seen; r != nil {
			t.Fatal("a request before the join")
		}
		pend := e.NewPending(ctx, e.Address(), false)
		req := NewRequest(name, wrapperspb.String("charge"), pend.ReplyTo(), false)
		req.Deadline, req.IdempotencyKey = time.Now().Add(time.Minute), "k"
		sent := e.Clock()
		if err := req.ForwardTo(e, At(e.Address(), name).PID(e)); err != nil {
			t.Fatal(err)
		}
		var got *Request
		select {
		case got = <-rec.seen:
		case <-ctx.Done():
			t.Fatal("no run")
		}
		if _, err := pend.Wait(ctx); err != nil {
			t.Fatal(err)
		}
		pend.Release()
		switch {
		case tc.max == 0 && got.startBy != 0:
			t.Errorf("lease %v, local controller: a start bound %v", tc.lease, got.startBy)
		case tc.max != 0 && (got.startBy <= sent || got.startBy > sent+tc.max+time.Second/10):
			t.Errorf("lease %v: bound %v after the send; want within (0, %v]", tc.lease, got.startBy-sent, tc.max)
		}
		if got.attempt <= last {
			t.Errorf("attempt %d after %d", got.attempt, last)
		}
		last = got.attempt
	}
}

// BenchmarkStartBound is what the start bound adds to a keyed run sent
// to another node: the exchange's bound (its clock and its watchdogs'
// DownBy), and the controller's check (its clock and the peer's offset).
//
//	go test -run '^$' -bench StartBound ./exchange
func BenchmarkStartBound(b *testing.B) {
	start := func(name string) *actor.Node {
		n, err := actor.Start(actor.Config{Name: name, Listen: "127.0.0.1:0", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = n.Stop(context.Background()) })
		return n
	}
	e, c := start("e@localhost"), start("c@localhost")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pid, err := c.Spawn(ctx, &runRecorder{seen: make(chan *Request, 1)})
	if err != nil {
		b.Fatal(err)
	}
	_, _ = e.Call(ctx, pid, wrapperspb.String("connect")) // connects e to c; the answer does not matter
	for range 1000 {                                      // the reply comes from c on a connection of its own
		if _, ok := c.PeerClock(e.Address()); ok {
			break
		}
		time.Sleep(time.Millisecond)
	}
	req := &Request{replyTo: actor.NewReplyTo(e.Address(), 1)}
	b.ReportAllocs()
	for b.Loop() {
		req.startBy = max(min(e.Clock()+DefaultLease, e.DownBy(c.Address())), 1)
		if err := CheckStart(c, req); err != nil {
			b.Fatal(err)
		}
	}
}
