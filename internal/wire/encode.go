package wire

import (
	"math/bits"
	"slices"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// The hot messages — a Frame carrying a call, a reply, a cast or an info,
// and the Envelope of an exchange request — are encoded and decoded here by
// hand, in protobuf's wire format, byte for byte what proto.Marshal writes
// (fields in number order, zero values left out), without the reflection
// tables of the generic codec. Anything else (another body, a message that
// kept unknown fields, a nil message inside a oneof, a string that is not
// valid UTF-8, which proto refuses) goes through proto.

// AppendFrame appends f's protobuf encoding to b.
func AppendFrame(b []byte, f *Frame) ([]byte, error) {
	n, ok := sizeFrame(f)
	if !ok {
		return proto.MarshalOptions{}.MarshalAppend(b, f)
	}
	b = slices.Grow(b, n)
	if f.From != nil {
		b = appendLen(b, 1, sizePid(f.From))
		b = appendPid(b, f.From)
	}
	b = appendString(b, 2, f.To)
	switch x := f.Body.(type) {
	case *Frame_Call:
		c := x.Call
		b = appendLen(b, 3, sizeCall(c))
		b = appendUint(b, 1, c.Ref)
		b = appendAnyField(b, 2, c.Payload)
		b = appendString(b, 3, c.ReplyAddress)
	case *Frame_Reply:
		r := x.Reply
		b = appendLen(b, 4, sizeReply(r))
		b = appendUint(b, 1, r.Ref)
		b = appendAnyField(b, 2, r.Payload)
		if r.Error != nil {
			b = appendLen(b, 3, sizeError(r.Error))
			b = appendUint(b, 1, uint64(r.Error.Code))
			b = appendString(b, 2, r.Error.Text)
		}
	case *Frame_Cast:
		b = appendLen(b, 5, sizeAnyField(1, x.Cast.Payload))
		b = appendAnyField(b, 1, x.Cast.Payload)
	case *Frame_Info:
		b = appendLen(b, 6, sizeAnyField(1, x.Info.Payload))
		b = appendAnyField(b, 1, x.Info.Payload)
	}
	return b, nil
}

// AppendEnvelope appends e's protobuf encoding to b.
func AppendEnvelope(b []byte, e *Envelope) ([]byte, error) {
	n, ok := sizeEnvelope(e)
	if !ok { // headers in key order there too, as here
		return proto.MarshalOptions{Deterministic: len(e.GetHeaders()) > 1}.MarshalAppend(b, e)
	}
	b = slices.Grow(b, n)
	b = appendString(b, 1, e.Exchange)
	b = appendString(b, 2, e.RequestTag)
	b = appendUint(b, 3, e.RequestId)
	b = appendString(b, 4, e.ReplyAddress)
	b = appendUint(b, 5, uint64(e.DeadlineUnixNano))
	b = appendString(b, 6, e.ServiceTag)
	b = appendString(b, 7, e.RoutingKey)
	b = appendString(b, 8, e.IdempotencyKey)
	b = appendAnyField(b, 9, e.Payload)
	b = appendUint(b, 10, uint64(e.Hops))
	if e.WantAll {
		b = appendUint(b, 11, 1)
	}
	b = appendString(b, 12, e.ConnectionTag)
	b = appendHeaders(b, 13, e.Headers)
	b = appendUint(b, 14, uint64(e.StartByNs))
	b = appendUint(b, 15, e.Attempt)
	return b, nil
}

// sizeFrame is the length of f's encoding, and false if f is not one the
// hand codec writes.
func sizeFrame(f *Frame) (int, bool) {
	if f == nil || len(f.unknownFields) > 0 || !utf8.ValidString(f.To) ||
		(f.From != nil && (len(f.From.unknownFields) > 0 || !utf8.ValidString(f.From.Address) || !utf8.ValidString(f.From.Id))) {
		return 0, false
	}
	n := sizeString(2, f.To)
	if f.From != nil {
		n += sizeLen(1, sizePid(f.From))
	}
	switch x := f.Body.(type) {
	case *Frame_Call:
		if x == nil || x.Call == nil || len(x.Call.unknownFields) > 0 || !plainAny(x.Call.Payload) || !utf8.ValidString(x.Call.ReplyAddress) {
			return 0, false
		}
		n += sizeLen(3, sizeCall(x.Call))
	case *Frame_Reply:
		if x == nil || x.Reply == nil {
			return 0, false
		}
		r := x.Reply
		if len(r.unknownFields) > 0 || !plainAny(r.Payload) ||
			(r.Error != nil && (len(r.Error.unknownFields) > 0 || !utf8.ValidString(r.Error.Text))) {
			return 0, false
		}
		n += sizeLen(4, sizeReply(r))
	case *Frame_Cast:
		if x == nil || x.Cast == nil || len(x.Cast.unknownFields) > 0 || !plainAny(x.Cast.Payload) {
			return 0, false
		}
		n += sizeLen(5, sizeAnyField(1, x.Cast.Payload))
	case *Frame_Info:
		if x == nil || x.Info == nil || len(x.Info.unknownFields) > 0 || !plainAny(x.Info.Payload) {
			return 0, false
		}
		n += sizeLen(6, sizeAnyField(1, x.Info.Payload))
	case nil:
	default:
		return 0, false
	}
	return n, true
}

func sizeEnvelope(e *Envelope) (int, bool) {
	if e == nil || len(e.unknownFields) > 0 || !plainAny(e.Payload) {
		return 0, false
	}
	for _, s := range [...]string{e.Exchange, e.RequestTag, e.ReplyAddress, e.ServiceTag, e.RoutingKey, e.IdempotencyKey, e.ConnectionTag} {
		if !utf8.ValidString(s) {
			return 0, false
		}
	}
	h, ok := sizeHeaders(13, e.Headers)
	if !ok {
		return 0, false
	}
	n := sizeString(1, e.Exchange) + sizeString(2, e.RequestTag) + sizeUint(3, e.RequestId) +
		sizeString(4, e.ReplyAddress) + sizeUint(5, uint64(e.DeadlineUnixNano)) + sizeString(6, e.ServiceTag) +
		sizeString(7, e.RoutingKey) + sizeString(8, e.IdempotencyKey) + sizeAnyField(9, e.Payload) +
		sizeUint(10, uint64(e.Hops)) + sizeString(12, e.ConnectionTag) + h +
		sizeUint(14, uint64(e.StartByNs)) + sizeUint(15, e.Attempt)
	if e.WantAll {
		n += 2
	}
	return n, true
}

// plainAny reports whether a is nil or has no unknown fields and a type
// URL of valid UTF-8: one the hand codec writes as proto would.
func plainAny(a *anypb.Any) bool {
	return a == nil || (len(a.ProtoReflect().GetUnknown()) == 0 && utf8.ValidString(a.TypeUrl))
}

func sizePid(p *Pid) int { return sizeString(1, p.Address) + sizeString(2, p.Id) }

func sizeCall(c *Call) int {
	return sizeUint(1, c.Ref) + sizeAnyField(2, c.Payload) + sizeString(3, c.ReplyAddress)
}

func sizeReply(r *Reply) int {
	n := sizeUint(1, r.Ref) + sizeAnyField(2, r.Payload)
	if r.Error != nil {
		n += sizeLen(3, sizeError(r.Error))
	}
	return n
}

func sizeError(e *Error) int { return sizeUint(1, uint64(e.Code)) + sizeString(2, e.Text) }

func sizeAny(a *anypb.Any) int { return sizeString(1, a.TypeUrl) + sizeBytes(2, a.Value) }

// sizeAnyField is the size of a as field num: nothing if a is nil.
func sizeAnyField(num protowire.Number, a *anypb.Any) int {
	if a == nil {
		return 0
	}
	return sizeLen(num, sizeAny(a))
}

// sizeTag is the size of a field's tag: one byte, since every field
// number of the messages written here is below 16.
const sizeTag = 1

// sizeVarint is protowire.SizeVarint.
func sizeVarint(v uint64) int { return int(9*uint32(bits.Len64(v))+64) / 64 }

func sizeLen(_ protowire.Number, n int) int { return sizeTag + sizeVarint(uint64(n)) + n }

func sizeString(num protowire.Number, s string) int {
	if s == "" {
		return 0
	}
	return sizeLen(num, len(s))
}

func sizeBytes(num protowire.Number, v []byte) int {
	if len(v) == 0 {
		return 0
	}
	return sizeLen(num, len(v))
}

func sizeUint(num protowire.Number, v uint64) int {
	if v == 0 {
		return 0
	}
	return sizeTag + sizeVarint(v)
}

// appendVarint is protowire.AppendVarint, with the one-byte case (every
// tag here, most lengths) inlined at each call.
func appendVarint(b []byte, v uint64) []byte {
	if v < 0x80 {
		return append(b, byte(v))
	}
	return appendLongVarint(b, v)
}

func appendLongVarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func appendTag(b []byte, num protowire.Number, typ protowire.Type) []byte {
	return appendVarint(b, uint64(num)<<3|uint64(typ))
}

func appendLen(b []byte, num protowire.Number, n int) []byte {
	b = appendTag(b, num, protowire.BytesType)
	return appendVarint(b, uint64(n))
}

func appendString(b []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	b = appendLen(b, num, len(s))
	return append(b, s...)
}

func appendBytes(b []byte, num protowire.Number, v []byte) []byte {
	if len(v) == 0 {
		return b
	}
	b = appendLen(b, num, len(v))
	return append(b, v...)
}

func appendUint(b []byte, num protowire.Number, v uint64) []byte {
	if v == 0 {
		return b
	}
	b = appendTag(b, num, protowire.VarintType)
	return appendVarint(b, v)
}

func appendPid(b []byte, p *Pid) []byte {
	b = appendString(b, 1, p.Address)
	return appendString(b, 2, p.Id)
}

func appendAnyField(b []byte, num protowire.Number, a *anypb.Any) []byte {
	if a == nil {
		return b
	}
	b = appendLen(b, num, sizeAny(a))
	b = appendString(b, 1, a.TypeUrl)
	return appendBytes(b, 2, a.Value)
}
