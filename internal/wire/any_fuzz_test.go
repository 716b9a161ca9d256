package wire_test

import (
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/internal/wire"
)

// FuzzUnpackAny: any type URL and value unpack to a message or an error,
// never a panic; an Envelope that unpacks packs and unpacks to the same;
// any other type unpacks as anypb's UnmarshalNew unpacks it, the first
// time and the next (from the cache of message types).
func FuzzUnpackAny(f *testing.F) {
	const envURL = "type.googleapis.com/switchboard.wire.Envelope"
	env, err := wire.PackAny(&wire.Envelope{Exchange: "ping", RequestTag: "t", RequestId: 7, ReplyAddress: "127.0.0.1:4000"})
	if err != nil {
		f.Fatal(err)
	}
	str, _ := anypb.New(wrapperspb.String("ping"))
	f.Add(env.GetTypeUrl(), env.GetValue())
	f.Add(str.GetTypeUrl(), str.GetValue())
	f.Add(envURL, []byte{0xff, 0xff, 0xff})
	f.Add("type.googleapis.com/no.such.Type", []byte{})
	f.Add("", []byte{0x0a, 0x01})
	f.Add("x/google.protobuf.StringValue", str.GetValue())
	f.Add(str.GetTypeUrl(), []byte{0x0a, 0x01, 0xff})
	f.Fuzz(func(t *testing.T, url string, value []byte) {
		a := &anypb.Any{TypeUrl: url, Value: value}
		m, err := wire.UnpackAny(a)
		if url != envURL {
			for range 2 {
				want, werr := a.UnmarshalNew()
				if (err == nil) != (werr == nil) || (err == nil && !proto.Equal(m, want)) {
					t.Fatalf("%q %x: %v (%v), UnmarshalNew %v (%v)", url, value, m, err, want, werr)
				}
				m, err = wire.UnpackAny(a)
			}
		}
		if err != nil {
			return
		}
		e, ok := m.(*wire.Envelope)
		if !ok {
			return
		}
		p, err := wire.PackAny(e)
		if err != nil {
			return // the hand codec refuses to encode what it decoded leniently
		}
		m2, err := wire.UnpackAny(p)
		if err != nil {
			t.Fatalf("re-unpack of a packed envelope: %v", err)
		}
		if !proto.Equal(e, m2) {
			t.Fatalf("round trip: %v -> %v", e, m2)
		}
	})
}
