package patterns

import (
	"fmt"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/exchange/pubsub"
	"github.com/switchboard-go/switchboard/internal/pubsubpb"
)

// An upstream that drops a proxy on another node while the proxy sees no
// down of its upstream (the soak's access node, issue 18: the hub declared
// it down, and its proxy's subscriber got nothing for the rest of the
// run) gets the proxy's subscription back from the proxy's re-sync within
// its Spec.Resync, counted in its Stats.Restored.
const resyncEvery = 500 * time.Millisecond

func TestPubSubProxyResyncRestoresALostSubscription(t *testing.T) {
	hub, access := node(t, "hub@localhost", true), node(t, "access@localhost", true)
	up, err := pubsub.Start(ctxT(t), hub, pubsub.Spec{Name: "news"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pubsub.Start(ctxT(t), access, pubsub.Spec{Name: "news.proxy", Upstream: exchange.At(hub.Address(), "news"), Resync: resyncEvery}); err != nil {
		t.Fatal(err)
	}
	pid, ch := subscriber(t, access)
	if err := Subscribe(ctxT(t), access, exchange.Named("news.proxy"), "sport.#", "", pid); err != nil {
		t.Fatal(err)
	}
	ex := exchange.At(hub.Address(), "news")
	awaitStats(t, hub, ex, func(s pubsub.Stats) bool { return s.Subscriptions == 1 })
	info, err := pubsub.Describe(ctxT(t), hub, ex)
	if err != nil || len(info.Subscriptions) != 1 {
		t.Fatalf("upstream %+v %v", info, err)
	}
	proxy := info.Subscriptions[0].Subscriber
	// The upstream forgets the proxy; nothing tells the proxy.
	if _, err := hub.Call(ctxT(t), up, &pubsubpb.Unsubscribe{Subscriber: proxy, Pattern: "sport.#"}); err != nil {
		t.Fatal(err)
	}
	awaitStats(t, hub, ex, func(s pubsub.Stats) bool { return s.Subscriptions == 0 })
	lost := time.Now()
	deadline := lost.Add(3 * resyncEvery)
	for i := 0; ; i++ {
		if err := Publish(ctxT(t), hub, ex, "sport.tennis", wrapperspb.String(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
		select {
		case m := <-ch:
			if m.Key != "sport.tennis" || m.Exchange != "news.proxy" {
				t.Fatalf("got %+v", m)
			}
			st := awaitStats(t, hub, ex, func(s pubsub.Stats) bool { return s.Restored == 1 })
			t.Logf("delivered again %v after the upstream lost the proxy; upstream %+v", time.Since(lost).Round(time.Millisecond), st)
			return
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			st, _ := pubsub.Inspect(ctxT(t), hub, ex)
			t.Fatalf("the proxy's subscriber got nothing for %v after its upstream lost it: upstream %+v", 3*pubsub.ResyncInterval, st)
		}
	}
}

// While nothing is lost, a proxy's re-sync is one message per interval,
// however many patterns it holds upstream (a count and a digest), not one
// per pattern.
func TestPubSubProxyResyncIsOneMessage(t *testing.T) {
	hub, access := node(t, "hub@localhost", true), node(t, "access@localhost", true)
	if _, err := pubsub.Start(ctxT(t), hub, pubsub.Spec{Name: "news"}); err != nil {
		t.Fatal(err)
	}
	if _, err := pubsub.Start(ctxT(t), access, pubsub.Spec{Name: "news.proxy", Upstream: exchange.At(hub.Address(), "news"), Resync: 100 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	pid, _ := subscriber(t, access)
	const patterns = 50
	for i := range patterns {
		if err := Subscribe(ctxT(t), access, exchange.Named("news.proxy"), fmt.Sprintf("topic%d.#", i), "", pid); err != nil {
			t.Fatal(err)
		}
	}
	ex := exchange.At(hub.Address(), "news")
	awaitStats(t, hub, ex, func(s pubsub.Stats) bool { return s.Subscriptions == patterns })
	toHub := func() uint64 {
		for _, ps := range access.PeerStats() {
			if ps.Peer == hub.Address() {
				return ps.FramesOut
			}
		}
		return 0
	}
	base := toHub()
	for deadline := time.Now().Add(30 * time.Second); ; {
		grown := toHub() - base
		if grown >= patterns {
			t.Fatalf("the proxy sent %d frames to its upstream at once with nothing lost: its patterns again, not one check", grown)
		}
		if grown >= 3 {
			break // three checks, one frame each
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d frames from the proxy to its upstream in 30s: no re-sync check", grown)
		}
		time.Sleep(5 * time.Millisecond) // PeerStats has no events to await
	}
	if st := awaitStats(t, hub, ex, func(pubsub.Stats) bool { return true }); st.Restored != 0 {
		t.Fatalf("upstream restored %d subscriptions it never lost", st.Restored)
	}
}
