package wire

import (
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// envelopeURL is the type URL of an Envelope packed in an Any.
const envelopeURL = "type.googleapis.com/switchboard.wire.Envelope"

// PackAny is anypb.New, with an Envelope encoded by the hand codec.
func PackAny(m proto.Message) (*anypb.Any, error) {
	if e, ok := m.(*Envelope); ok {
		b, err := AppendEnvelope(nil, e)
		if err != nil {
			return nil, err
		}
		return &anypb.Any{TypeUrl: envelopeURL, Value: b}, nil
	}
	return anypb.New(m)
}

// UnpackAny is a.UnmarshalNew, with an Envelope decoded by the hand codec.
func UnpackAny(a *anypb.Any) (proto.Message, error) {
	if a.GetTypeUrl() == envelopeURL {
		blk := &envelopeBody{}
		if err := unmarshalEnvelope(a.GetValue(), &blk.e, &blk.a, blk.slab[:0]); err != nil {
			return nil, err
		}
		return &blk.e, nil
	}
	return a.UnmarshalNew()
}
