package patterns

import (
	"errors"
	"testing"

	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/exchange/pubsub"
	"github.com/switchboard-go/switchboard/exchange/topic"
)

// Publish keeps a handle to its node's exchange process: once that
// process is gone and another holds the exchange's name, publishes by
// name and by the node's address reach the new one, as they would
// through the exchange's NamedPID.
func TestPublishFollowsRestartedExchange(t *testing.T) {
	n := node(t, "restart@localhost", false)
	old, err := pubsub.Start(ctxT(t), n, pubsub.Spec{Name: "ps"})
	if err != nil {
		t.Fatal(err)
	}
	a, aIn := subscriber(t, n)
	if err := Subscribe(ctxT(t), n, exchange.Named("ps"), "k.*", "", a); err != nil {
		t.Fatal(err)
	}
	if err := Publish(ctxT(t), n, exchange.Named("ps"), "k.1", "one"); err != nil {
		t.Fatal(err)
	}
	if m := next(t, aIn); m.Key != "k.1" {
		t.Fatalf("got %q", m.Key)
	}
	if err := Publish(ctxT(t), n, exchange.Named("ps"), "k.*", "x"); !errors.Is(err, topic.ErrInvalidKey) {
		t.Fatalf("an invalid key: %v, want topic.ErrInvalidKey", err)
	}

	if err := n.StopProcess(ctxT(t), old, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := pubsub.Start(ctxT(t), n, pubsub.Spec{Name: "ps"}); err != nil {
		t.Fatal(err)
	}
	b, bIn := subscriber(t, n)
	if err := Subscribe(ctxT(t), n, exchange.Named("ps"), "k.*", "", b); err != nil {
		t.Fatal(err)
	}
	for _, ex := range []exchange.Address{exchange.Named("ps"), exchange.At(n.Address(), "ps")} {
		if err := Publish(ctxT(t), n, ex, "k.2", "two"); err != nil {
			t.Fatal(err)
		}
		if m := next(t, bIn); m.Key != "k.2" {
			t.Fatalf("got %q", m.Key)
		}
	}
	select {
	case m := <-aIn:
		t.Fatalf("the old exchange's subscriber got %q", m.Key)
	default:
	}
	if s, err := pubsub.Inspect(ctxT(t), n, exchange.Named("ps")); err != nil || s.Published != 2 || s.Delivered != 2 {
		t.Fatalf("the new exchange: %+v, %v; want 2 published, 2 delivered", s, err)
	}
}
