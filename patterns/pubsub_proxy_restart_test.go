package patterns

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/cluster"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/exchange/pubsub"
)

// A proxy whose upstream restarts in place many times in quick
// succession (the soak's users_core losing its lock eight times in 30 s,
// issue 18) subscribes again once the restarts stop: a publish upstream
// reaches the proxy's subscriber within a bound. Upstream found by
// address, by name through the directory, and with the proxy's node
// dropping its connections at each restart as well.
func TestPubSubProxyUpstreamRestartsQuickly(t *testing.T) {
	t.Run("at", func(t *testing.T) { proxyUpstreamRestarts(t, false, false) })
	t.Run("named", func(t *testing.T) { proxyUpstreamRestarts(t, true, false) })
	t.Run("disconnect", func(t *testing.T) { proxyUpstreamRestarts(t, false, true) })
}

func proxyUpstreamRestarts(t *testing.T, named, disconnect bool) {
	hub, access := node(t, "hub@localhost", true), node(t, "access@localhost", true)
	upstream := exchange.At(hub.Address(), "news")
	if named { // found through the cluster's directory, as in the soak
		join := func(n *actor.Node, seeds ...string) {
			c, err := cluster.Join(ctxT(t), n, cluster.Config{Provider: cluster.Embedded(cluster.EmbeddedConfig{Seeds: seeds}), Logger: quiet()})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				_ = c.Leave(ctx)
			})
		}
		join(hub)
		join(access, hub.Address())
		upstream = exchange.Named("news")
	}
	spec := pubsub.Spec{Name: "news"}
	up, err := pubsub.Start(ctxT(t), hub, spec)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pubsub.Start(ctxT(t), access, pubsub.Spec{Name: "news.proxy", Upstream: upstream}); err != nil {
		t.Fatal(err)
	}
	pid, ch := subscriber(t, access)
	if err := Subscribe(ctxT(t), access, exchange.Named("news.proxy"), "sport.#", "", pid); err != nil {
		t.Fatal(err)
	}
	awaitStats(t, hub, exchange.Named("news"), func(s pubsub.Stats) bool { return s.Subscriptions == 1 })
	for i := range 8 {
		if disconnect {
			access.Disconnect(hub.Address())
		}
		if i%2 == 0 {
			hub.Exit(up, actor.ErrKill) // killed: no Terminate
		} else if err := hub.StopProcess(ctxT(t), up, nil); err != nil {
			t.Fatal(err)
		}
		// In place, on the same node, under the same name: at once, or
		// after a gap in which no instance runs (the soak's tree took
		// 50-450 ms to come back), so the proxy finds none for a while.
		if gap := time.Duration(i%3) * 150 * time.Millisecond; gap > 0 {
			time.Sleep(gap) // the restart's delay itself, not a wait for an event
		}
		for start := time.Now(); ; {
			if up, err = pubsub.Start(ctxT(t), hub, spec); err == nil {
				break
			}
			if !errors.Is(err, actor.ErrNameTaken) || time.Since(start) > 5*time.Second {
				t.Fatal(err)
			}
			time.Sleep(time.Millisecond) // the previous one's name is released as it exits
		}
	}
	// After the restarts the proxy must be subscribed to the last
	// instance: publishes reach its subscriber within the bound (the
	// proxy's backoff is at most a second).
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; ; i++ {
		if err := Publish(ctxT(t), hub, exchange.Named("news"), "sport.tennis", wrapperspb.String(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
		select {
		case m := <-ch:
			if m.Key != "sport.tennis" || m.Exchange != "news.proxy" {
				t.Fatalf("got %+v", m)
			}
			return
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			st, _ := pubsub.Inspect(ctxT(t), access, exchange.Named("news.proxy"))
			ust, _ := pubsub.Inspect(ctxT(t), hub, exchange.Named("news"))
			t.Fatalf("the proxy's subscriber got nothing for 10 s after the restarts: proxy %+v, upstream %+v", st, ust)
		}
	}
}
