package wire

import (
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// TestPayloadTypesKeepCanonicalURLs: a payload's message type is cached
// under its canonical type URL and taken from there; a URL of another form
// (anything up to the last '/' is ignored by the registry) still unpacks,
// but is not kept, so that URLs from the wire cannot grow the cache.
func TestPayloadTypesKeepCanonicalURLs(t *testing.T) {
	var c typeCache
	m := wrapperspb.String("x")
	c.remember("x/y/google.protobuf.StringValue", m)
	if c.find("x/y/google.protobuf.StringValue") != nil || c.m.Load() != nil {
		t.Fatal("a URL of another form was cached")
	}
	c.remember(TypeURL(m), m)
	c.remember(TypeURL(m), m)
	if got := c.find(TypeURL(m)); got != m.ProtoReflect().Type() || len(*c.m.Load()) != 1 {
		t.Fatalf("cached %v (%d entries), want %v once", got, len(*c.m.Load()), m.ProtoReflect().Type())
	}

	for _, url := range []string{TypeURL(m), "x/google.protobuf.StringValue"} {
		for range 2 {
			got, err := UnpackAny(&anypb.Any{TypeUrl: url, Value: []byte{0x0a, 0x02, 'h', 'i'}})
			if err != nil || !proto.Equal(got, wrapperspb.String("hi")) {
				t.Fatalf("%s: %v (%v)", url, got, err)
			}
		}
	}
	if payloadTypes.find("x/google.protobuf.StringValue") != nil || payloadTypes.find(TypeURL(m)) == nil {
		t.Fatal("UnpackAny cached a URL of another form, or not the canonical one")
	}
}
