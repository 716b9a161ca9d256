package wire

import (
	"sync"

	"google.golang.org/protobuf/proto"
)

// AppendPacked appends the encoding of m to b, as the value of an Any that
// PackAny would make: an Envelope's by the hand codec, any other message's
// by proto. Senders that encode into a reused buffer use it with TypeURL
// instead of PackAny, which allocates the value and the Any.
func AppendPacked(b []byte, m proto.Message) ([]byte, error) {
	if e, ok := m.(*Envelope); ok {
		return AppendEnvelope(b, e)
	}
	return proto.MarshalOptions{}.MarshalAppend(b, m)
}

// typeURLs caches the type URL of each message type seen, keyed by its
// descriptor (an interface value: looking it up allocates nothing). The
// set of message types is fixed by the binary, so it is bounded.
var typeURLs sync.Map // protoreflect.MessageDescriptor -> string

// TypeURL is the type URL of m in an Any ("type.googleapis.com/" and its
// full name), built once per message type.
func TypeURL(m proto.Message) string {
	d := m.ProtoReflect().Descriptor()
	if u, ok := typeURLs.Load(d); ok {
		return u.(string)
	}
	u := "type.googleapis.com/" + string(d.FullName())
	typeURLs.Store(d, u)
	return u
}
