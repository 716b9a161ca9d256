package pubsub_test

import (
	"context"
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/exchange/pubsub"
	"github.com/switchboard-go/switchboard/internal/pubsubpb"
)

// A publish that reaches the exchange with an invalid key (not through
// PublishTo, which refuses it) is rejected and not counted as published;
// the exchange splits the key once, as it matches it.
func TestRouteRejectsInvalidKey(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n, err := actor.Start(actor.Config{Name: "route@localhost"})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop(ctx)
	pid, err := pubsub.Start(ctx, n, pubsub.Spec{Name: "r"})
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"a.*", "#", "a.b"} {
		if err := n.Send(pid, &pubsubpb.PublishLocal{Key: key, Value: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	s, err := pubsub.Inspect(ctx, n, exchange.Named("r")) // a call: after the sends
	if err != nil {
		t.Fatal(err)
	}
	if s.Rejected != 2 || s.Published != 1 || s.Unmatched != 1 {
		t.Fatalf("stats %+v; want 2 rejected, 1 published (unmatched)", s)
	}
}
