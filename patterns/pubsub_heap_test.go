package patterns

import (
	"context"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/exchange/pubsub"
	"github.com/switchboard-go/switchboard/internal/childtest"
)

// heapAfterGC is the live heap.
func heapAfterGC() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// flood publishes total fresh messages of size bytes and returns the
// largest growth of the live heap over base, sampled every 5,000.
func flood(t *testing.T, n *actor.Node, ex exchange.Address, total, size int) (peak int64) {
	t.Helper()
	// One context for the flood: each ctxT lives until the test's end.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	base := heapAfterGC()
	for i := range total {
		if err := Publish(ctx, n, ex, "feed.x", wrapperspb.Bytes(make([]byte, size))); err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
		if i%5000 == 4999 {
			peak = max(peak, heapAfterGC()-base)
		}
	}
	return peak
}

// A subscriber that does not read, under a producer that publishes 80 MB
// as fast as it can: the node's live heap grows by no more than the bound
// docs/pubsub.md states (MaxBacklog messages in the mailbox, as many held
// under drop-oldest), and every message is counted as delivered,
// overflowed or dropped.
func TestPubSubSlowSubscriberKeepsHeapBounded(t *testing.T) {
	const backlog, total, size = 1000, 20_000, 4 << 10
	for _, policy := range []exchange.Overflow{exchange.OverflowReject, exchange.OverflowDropOldest} {
		t.Run(policy.String(), func(t *testing.T) {
			n := node(t, "a@localhost", false)
			ex := exchange.Named("feed")
			if _, err := pubsub.Start(ctxT(t), n, pubsub.Spec{Name: "feed", MaxBacklog: backlog, MaxInbox: backlog, Overflow: policy}); err != nil {
				t.Fatal(err)
			}
			g := newGated(t, n, ex, 2*backlog+2)
			t.Cleanup(func() { close(g.open) }) // before the node stops: it drains into got
			peak := flood(t, n, ex, total, size)
			st := awaitStats(t, n, ex, func(s pubsub.Stats) bool { return s.Published == total })
			// The bound (docs/pubsub.md): the messages that may wait, in
			// the inbox (MaxInbox), in the subscriber's mailbox
			// (MaxBacklog) and held for it (MaxBacklog, drop-oldest), at
			// their payload and a few hundred bytes of envelope each.
			bound := int64(3*backlog*size + 3*backlog*512)
			t.Logf("%s: heap grew by at most %.1f MB (bound %.1f MB) for %d MiB published; %+v",
				policy, float64(peak)/1e6, float64(bound)/1e6, total*size>>20, st)
			if peak > bound {
				t.Fatalf("the heap grew by %d bytes, bound %d", peak, bound)
			}
			if st.Delivered+st.Overflowed+st.Dropped+uint64(st.Held) != total || st.Delivered != backlog+1 {
				t.Fatalf("stats %+v do not account for %d messages", st, total)
			}
		})
	}
}

const subChildEnv = "SWITCHBOARD_PATTERNS_SUBSCRIBER_CHILD"

// A test binary started with subChildEnv runs a node with one process
// subscribed to "feed.#" at the pub-sub exchange named there, counting
// what it gets; it lives until its stdin closes or it is killed.
func init() {
	v := os.Getenv(subChildEnv)
	if v == "" {
		return
	}
	addr, name, _ := strings.Cut(v, ",")
	serveChild(func(joined func()) actor.Server {
		return &childSubscriber{ex: exchange.At(addr, name), joined: joined}
	})
}

type childSubscriber struct {
	actor.BaseServer
	ex     exchange.Address
	joined func()
}

func (s *childSubscriber) Init(p *actor.Process) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := Subscribe(ctx, p.Node(), s.ex, "feed.#", "", p.Self()); err != nil {
		return err
	}
	s.joined()
	return nil
}

// A subscriber on a node that is paused (SIGSTOP) under a producer that
// publishes 80 MB: the producer's node keeps at most its queue bound for
// that node (actor.Limits.MaxPeerQueueBytes) and counts the rest as
// overflowed; the producer is never held up.
func TestPubSubFrozenRemoteSubscriberKeepsHeapBounded(t *testing.T) {
	const queue, inbox, total, size = 8 << 20, 1000, 20_000, 4 << 10
	// Long ticks: the frozen node is not declared down during the flood.
	n := nodeWith(t, actor.Config{Name: "pub@localhost", Listen: "127.0.0.1:0", Logger: quiet(),
		TickTime: time.Minute, Limits: actor.Limits{MaxPeerQueueBytes: queue}})
	if _, err := pubsub.Start(ctxT(t), n, pubsub.Spec{Name: "feed", MaxInbox: inbox, Overflow: exchange.OverflowReject}); err != nil {
		t.Fatal(err)
	}
	ex := exchange.Named("feed")
	c := childtest.Start(t, "subscriber", subChildEnv+"="+n.Address()+",feed", "SB_TICK=1m")
	c.Expect(t, 20*time.Second, "READY")
	awaitStats(t, n, ex, func(s pubsub.Stats) bool { return s.Subscribers == 1 })
	c.Freeze(t)
	start := time.Now()
	peak := flood(t, n, ex, total, size)
	took := time.Since(start)
	st := awaitStats(t, n, ex, func(s pubsub.Stats) bool { return s.Published == total })
	// The bound (docs/pubsub.md): the queue for the frozen node, the
	// inbox (1,000 messages), and the frames being encoded and refused.
	bound := int64(queue + 2*inbox*size + 8<<20)
	t.Logf("frozen remote subscriber: heap grew by at most %.1f MB (bound %.1f MB) for %d MiB published in %v; %+v; node %+v",
		float64(peak)/1e6, float64(bound)/1e6, total*size>>20, took.Round(time.Millisecond), st, n.Stats())
	if peak > bound {
		t.Fatalf("the heap grew by %d bytes, bound %d", peak, bound)
	}
	if st.Overflowed == 0 || st.Delivered+st.Overflowed != total || st.Remote != st.Delivered {
		t.Fatalf("stats %+v do not account for %d messages", st, total)
	}
}
