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
// pubsub.ResyncInterval, counted in its Stats.Restored.
func TestPubSubProxyResyncRestoresALostSubscription(t *testing.T) {
	hub, access := node(t, "hub@localhost", true), node(t, "access@localhost", true)
	up, err := pubsub.Start(ctxT(t), hub, pubsub.Spec{Name: "news"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pubsub.Start(ctxT(t), access, pubsub.Spec{Name: "news.proxy", Upstream: exchange.At(hub.Address(), "news")}); err != nil {
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
	deadline := lost.Add(3 * pubsub.ResyncInterval)
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
