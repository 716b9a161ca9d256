package pubsub_test

import (
	"errors"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/exchange/pubsub"
	"github.com/switchboard-go/switchboard/internal/pubsubpb"
)

// FuzzAsMessage: any bytes a subscriber's node receives as a Delivery
// decode to a message or exchange.ErrBadRequest, never a panic.
func FuzzAsMessage(f *testing.F) {
	p, _ := anypb.New(wrapperspb.String("x"))
	for _, m := range []*pubsubpb.Delivery{
		{Exchange: "e", Key: "a.b", Tag: "t", Payload: p},
		{Exchange: "e"},
		{Exchange: "e", Payload: &anypb.Any{TypeUrl: "type.googleapis.com/no.such.Type"}},
		{Exchange: "e", Payload: &anypb.Any{TypeUrl: p.GetTypeUrl(), Value: []byte{0xff}}},
	} {
		b, _ := proto.Marshal(m)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var d pubsubpb.Delivery
		if proto.Unmarshal(b, &d) != nil {
			return
		}
		m, ok, err := pubsub.AsMessage(&d)
		if !ok {
			t.Fatal("Delivery not recognised")
		}
		if err != nil {
			if !errors.Is(err, exchange.ErrBadRequest) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if m == nil || m.Value == nil || m.Key != d.GetKey() {
			t.Fatalf("decoded %+v from %v", m, &d)
		}
	})
}
