package patterns

import (
	"context"
	"errors"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/exchange/pubsub"
)

// gated is a subscriber that holds its first message until open is
// closed, and then passes every message's value on.
type gated struct {
	actor.BaseServer
	busy chan struct{} // gets one signal: the first message is being held
	open chan struct{}
	got  chan int64
	held bool
}

func newGated(t *testing.T, n *actor.Node, ex exchange.Address, size int) *gated {
	t.Helper()
	g := &gated{busy: make(chan struct{}, 1), open: make(chan struct{}), got: make(chan int64, size)}
	pid, err := n.Spawn(ctxT(t), g)
	if err != nil {
		t.Fatal(err)
	}
	if err := Subscribe(ctxT(t), n, ex, "feed.#", "", pid); err != nil {
		t.Fatal(err)
	}
	return g
}

func (g *gated) HandleInfo(_ *actor.Process, msg any) {
	m, ok, _ := pubsub.AsMessage(msg)
	if !ok {
		return
	}
	if !g.held {
		g.held = true
		g.busy <- struct{}{}
		<-g.open
	}
	g.got <- m.Value.(*wrapperspb.Int64Value).GetValue()
}

// drain takes want values from the subscriber, in order.
func (g *gated) drain(t *testing.T, want []int64) {
	t.Helper()
	for i, w := range want {
		select {
		case v := <-g.got:
			if v != w {
				t.Fatalf("value %d is %d, want %d", i, v, w)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("only %d of %d values", i, len(want))
		}
	}
	select {
	case v := <-g.got:
		t.Fatalf("value %d more than the %d expected", v, len(want))
	case <-time.After(20 * time.Millisecond): // nothing more is due: a short look suffices
	}
}

func seq(from, to int64) []int64 {
	var s []int64
	for i := from; i < to; i++ {
		s = append(s, i)
	}
	return s
}

// Under OverflowReject a subscriber that does not read gets the first
// MaxBacklog messages after the one it holds, and misses the others,
// each counted; once it reads it gets new messages again.
func TestPubSubOverflowReject(t *testing.T) {
	const backlog, total = 100, 2000
	n, ex, g, st := floodHeld(t, pubsub.Spec{Name: "feed", MaxBacklog: backlog, Overflow: exchange.OverflowReject}, total)
	if st.Delivered != 1+backlog || st.Overflowed != total-1-backlog || st.Dropped != 0 || st.Blocked != 0 {
		t.Fatalf("stats %+v: want %d delivered, %d overflowed", st, 1+backlog, total-1-backlog)
	}
	close(g.open)
	g.drain(t, seq(0, 1+backlog))
	publish(t, n, ex, total, total+1)
	g.drain(t, []int64{total})
}

// Under OverflowDropOldest the exchange holds MaxBacklog more messages for
// a subscriber at its bound, dropping the oldest of them: the subscriber
// gets what its mailbox held and the newest, and the drops are counted.
func TestPubSubOverflowDropOldest(t *testing.T) {
	const backlog, total = 100, 2000
	n, ex, g, st := floodHeld(t, pubsub.Spec{Name: "feed", MaxBacklog: backlog, Overflow: exchange.OverflowDropOldest}, total)
	if st.Delivered != 1+backlog || st.Held != backlog || st.Dropped != total-1-2*backlog || st.Overflowed != 0 {
		t.Fatalf("stats %+v: want %d delivered, %d held, %d dropped", st, 1+backlog, backlog, total-1-2*backlog)
	}
	close(g.open)
	g.drain(t, append(seq(0, 1+backlog), seq(total-backlog, total)...))
	st = awaitStats(t, n, ex, func(s pubsub.Stats) bool { return s.Held == 0 })
	if st.Delivered != 1+2*backlog {
		t.Fatalf("stats %+v: want %d delivered", st, 1+2*backlog)
	}
}

// Under OverflowBlock the exchange waits for a subscriber at its bound;
// its inbox fills, and then Publish waits until its deadline and returns
// ErrOverloaded. Nothing is lost: once the subscriber reads, every
// publish that returned nil is delivered.
func TestPubSubOverflowBlock(t *testing.T) {
	const backlog, inbox = 50, 20
	n := node(t, "a@localhost", false)
	ex := exchange.Named("feed")
	spec := pubsub.Spec{Name: "feed", MaxBacklog: backlog, MaxInbox: inbox, Overflow: exchange.OverflowBlock, BlockTimeout: time.Minute}
	if _, err := pubsub.Start(ctxT(t), n, spec); err != nil {
		t.Fatal(err)
	}
	g := newGated(t, n, ex, 1000)
	publish(t, n, ex, 0, 1)
	recv(t, g.busy)
	// 1 held by the subscriber, backlog in its mailbox, 1 the exchange
	// blocks on, up to inbox in the exchange's mailbox: then Publish waits.
	accepted := int64(1)
	for ; ; accepted++ {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		err := Publish(ctx, n, ex, "feed.x", wrapperspb.Int64(accepted))
		cancel()
		if errors.Is(err, actor.ErrOverloaded) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if accepted > 10*(backlog+inbox) {
			t.Fatalf("%d publishes taken by a blocked exchange", accepted)
		}
	}
	// A publisher refused by a full inbox waits until it has drained by
	// half, so the inbox may hold fewer than its bound when the exchange
	// blocks; never more.
	if least, most := int64(1+backlog+1), int64(1+backlog+1+inbox); accepted < least || accepted > most {
		t.Fatalf("%d publishes accepted, want %d..%d", accepted, least, most)
	}
	close(g.open)
	g.drain(t, seq(0, accepted))
	st := awaitStats(t, n, ex, func(s pubsub.Stats) bool { return s.Published == uint64(accepted) })
	if st.Delivered != uint64(accepted) || st.Blocked == 0 || st.Overflowed != 0 {
		t.Fatalf("stats %+v: want %d delivered, blocked, none overflowed", st, accepted)
	}
}

// floodHeld starts the pub-sub exchange of spec (named "feed") and a
// gated subscriber, and publishes the values 0..total-1 while the
// subscriber holds the first; it returns the exchange's counters once it
// has taken them all.
func floodHeld(t *testing.T, spec pubsub.Spec, total int64) (*actor.Node, exchange.Address, *gated, pubsub.Stats) {
	t.Helper()
	n := node(t, "a@localhost", false)
	ex := exchange.Named(spec.Name)
	if _, err := pubsub.Start(ctxT(t), n, spec); err != nil {
		t.Fatal(err)
	}
	g := newGated(t, n, ex, int(total))
	publish(t, n, ex, 0, 1)
	recv(t, g.busy)
	publish(t, n, ex, 1, total)
	return n, ex, g, awaitStats(t, n, ex, func(s pubsub.Stats) bool { return s.Published == uint64(total) })
}

// publish publishes the values from..to-1 under feed.x.
func publish(t *testing.T, n *actor.Node, ex exchange.Address, from, to int64) {
	t.Helper()
	for i := from; i < to; i++ {
		if err := Publish(ctxT(t), n, ex, "feed.x", wrapperspb.Int64(i)); err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
	}
}

func recv[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("nothing within 10 s")
		panic("unreachable")
	}
}
