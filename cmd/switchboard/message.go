package main

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	_ "google.golang.org/protobuf/types/known/structpb"   // linked in for --type
	_ "google.golang.org/protobuf/types/known/wrapperspb" // linked in for --type
)

// errBadMessage: the message argument is not JSON of its --type; a usage
// error.
var errBadMessage = errors.New("bad message")

// defaultType is the message type when --type is not given.
const defaultType = "google.protobuf.StringValue"

// message decodes the protojson text as the named type, resolved in
// protoregistry.GlobalTypes (every type linked into the binary).
func message(typeName, text string) (proto.Message, error) {
	mt, err := protoregistry.GlobalTypes.FindMessageByName(protoreflect.FullName(typeName))
	if err != nil {
		return nil, fmt.Errorf("%w: type %q: %v", errBadMessage, typeName, err)
	}
	m := mt.New().Interface()
	if err := protojson.Unmarshal([]byte(text), m); err != nil {
		return nil, fmt.Errorf("%w: %q as %s: %v", errBadMessage, text, typeName, err)
	}
	return m, nil
}

// replyView is a reply as --json prints it: its type and its protojson.
type replyView struct {
	Type  string
	Reply any
}

// reply describes a reply: protojson for a protobuf message.
func reply(v any) (replyView, string) {
	m, ok := v.(proto.Message)
	if !ok {
		return replyView{Type: fmt.Sprintf("%T", v), Reply: v}, fmt.Sprint(v)
	}
	b, err := protojson.Marshal(m)
	if err != nil {
		return replyView{Type: string(m.ProtoReflect().Descriptor().FullName())}, err.Error()
	}
	return replyView{Type: string(m.ProtoReflect().Descriptor().FullName()), Reply: rawJSON(b)}, string(b)
}

type rawJSON []byte

func (r rawJSON) MarshalJSON() ([]byte, error) { return r, nil }
