package wire

import (
	"math/bits"
	"slices"

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

// The encoders size a message once (sizeFrame, sizeEnvelope: every nested
// message's length with it), then write it backwards into the room that
// makes, from its last field to its first, as vtprotobuf does: a nested
// message's length is known when its fields are written, so none is sized
// twice.

// AppendFrame appends f's protobuf encoding to b.
func AppendFrame(b []byte, f *Frame) ([]byte, error) {
	n, ok := sizeFrame(f)
	if !ok {
		return proto.MarshalOptions{}.MarshalAppend(b, f)
	}
	b, room := grow(b, n)
	putFrame(room, f)
	return b, nil
}

// grow extends b by n bytes, and returns it and those n bytes.
func grow(b []byte, n int) ([]byte, []byte) {
	at := len(b)
	b = slices.Grow(b, n)[:at+n]
	return b, b[at:]
}

// putFrame writes f backwards into b, which is exactly its size.
func putFrame(b []byte, f *Frame) {
	i := len(b)
	switch x := f.Body.(type) {
	case *Frame_Call:
		c := x.Call
		end := i
		i = putString(b, i, 3, c.ReplyAddress)
		i = putAnyField(b, i, 2, c.Payload)
		i = putUint(b, i, 1, c.Ref)
		i = putLen(b, i, 3, end-i)
	case *Frame_Reply:
		r := x.Reply
		end := i
		if e := r.Error; e != nil {
			at := i
			i = putString(b, i, 2, e.Text)
			i = putUint(b, i, 1, uint64(e.Code))
			i = putLen(b, i, 3, at-i)
		}
		i = putAnyField(b, i, 2, r.Payload)
		i = putUint(b, i, 1, r.Ref)
		i = putLen(b, i, 4, end-i)
	case *Frame_Cast:
		end := i
		i = putAnyField(b, i, 1, x.Cast.Payload)
		i = putLen(b, i, 5, end-i)
	case *Frame_Info:
		end := i
		i = putAnyField(b, i, 1, x.Info.Payload)
		i = putLen(b, i, 6, end-i)
	}
	i = putString(b, i, 2, f.To)
	if p := f.From; p != nil {
		end := i
		i = putString(b, i, 2, p.Id)
		i = putString(b, i, 1, p.Address)
		putLen(b, i, 1, end-i)
	}
}

// AppendEnvelope appends e's protobuf encoding to b.
func AppendEnvelope(b []byte, e *Envelope) ([]byte, error) {
	n, ok := sizeEnvelope(e)
	if !ok { // headers in key order there too, as here
		return proto.MarshalOptions{Deterministic: len(e.GetHeaders()) > 1}.MarshalAppend(b, e)
	}
	b, room := grow(b, n)
	putEnvelope(room, e)
	return b, nil
}

// putEnvelope writes e backwards into b, which is exactly its size.
func putEnvelope(b []byte, e *Envelope) {
	i := len(b)
	i = putUint(b, i, 15, e.Attempt)
	i = putUint(b, i, 14, uint64(e.StartByNs))
	i = putHeaders(b, i, 13, e.Headers)
	i = putString(b, i, 12, e.ConnectionTag)
	if e.WantAll {
		i = putUint(b, i, 11, 1)
	}
	i = putUint(b, i, 10, uint64(e.Hops))
	i = putAnyField(b, i, 9, e.Payload)
	i = putString(b, i, 8, e.IdempotencyKey)
	i = putString(b, i, 7, e.RoutingKey)
	i = putString(b, i, 6, e.ServiceTag)
	i = putUint(b, i, 5, uint64(e.DeadlineUnixNano))
	i = putString(b, i, 4, e.ReplyAddress)
	i = putUint(b, i, 3, e.RequestId)
	i = putString(b, i, 2, e.RequestTag)
	putString(b, i, 1, e.Exchange)
}

// sizeFrame is the length of f's encoding, and false if f is not one the
// hand codec writes.
func sizeFrame(f *Frame) (int, bool) {
	if f == nil || len(f.unknownFields) > 0 ||
		(f.From != nil && len(f.From.unknownFields) > 0) {
		return 0, false
	}
	hi := orBytes(0, f.To)
	n := sizeString(2, f.To)
	if f.From != nil {
		hi = orBytes(orBytes(hi, f.From.Address), f.From.Id)
		n += sizeLen(1, sizePid(f.From))
	}
	var text, url string // the strings of the body
	switch x := f.Body.(type) {
	case *Frame_Call:
		if x == nil || x.Call == nil || len(x.Call.unknownFields) > 0 || !plainAny(x.Call.Payload) {
			return 0, false
		}
		text, url = x.Call.ReplyAddress, x.Call.Payload.GetTypeUrl()
		n += sizeLen(3, sizeCall(x.Call))
	case *Frame_Reply:
		if x == nil || x.Reply == nil {
			return 0, false
		}
		r := x.Reply
		if len(r.unknownFields) > 0 || !plainAny(r.Payload) || (r.Error != nil && len(r.Error.unknownFields) > 0) {
			return 0, false
		}
		text, url = r.Error.GetText(), r.Payload.GetTypeUrl()
		n += sizeLen(4, sizeReply(r))
	case *Frame_Cast:
		if x == nil || x.Cast == nil || len(x.Cast.unknownFields) > 0 || !plainAny(x.Cast.Payload) {
			return 0, false
		}
		url = x.Cast.Payload.GetTypeUrl()
		n += sizeLen(5, sizeAnyField(1, x.Cast.Payload))
	case *Frame_Info:
		if x == nil || x.Info == nil || len(x.Info.unknownFields) > 0 || !plainAny(x.Info.Payload) {
			return 0, false
		}
		url = x.Info.Payload.GetTypeUrl()
		n += sizeLen(6, sizeAnyField(1, x.Info.Payload))
	case nil:
	default:
		return 0, false
	}
	if hi = orBytes(orBytes(hi, text), url); hi&notASCII != 0 &&
		!validStrings(f.To, f.From.GetAddress(), f.From.GetId(), text, url) {
		return 0, false
	}
	return n, true
}

func sizeEnvelope(e *Envelope) (int, bool) {
	if e == nil || len(e.unknownFields) > 0 || !plainAny(e.Payload) {
		return 0, false
	}
	ss := [...]string{e.Exchange, e.RequestTag, e.ReplyAddress, e.ServiceTag, e.RoutingKey, e.IdempotencyKey, e.ConnectionTag, e.Payload.GetTypeUrl()}
	var hi uint64
	for _, s := range ss {
		hi = orBytes(hi, s)
	}
	if hi&notASCII != 0 && !validStrings(ss[:]...) {
		return 0, false
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

// plainAny reports whether a is nil or has no unknown fields: one the hand
// codec writes as proto would (its type URL is checked with the message's
// other strings).
func plainAny(a *anypb.Any) bool {
	return a == nil || len(a.ProtoReflect().GetUnknown()) == 0
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

// The put functions write a field backwards: its value ending at b[i],
// then its length and its tag before it; each returns the index of the
// field's first byte. Every field number here is below 16, so every tag
// is one byte.

// putVarint writes v to end at b[i], the one-byte case (every tag here,
// most lengths) inlined at each call.
func putVarint(b []byte, i int, v uint64) int {
	if v < 0x80 {
		i--
		b[i] = byte(v)
		return i
	}
	return putLongVarint(b, i, v)
}

func putLongVarint(b []byte, i int, v uint64) int {
	i -= sizeVarint(v)
	j := i
	for v >= 0x80 {
		b[j] = byte(v) | 0x80
		v >>= 7
		j++
	}
	b[j] = byte(v)
	return i
}

func putTag(b []byte, i int, num protowire.Number, typ protowire.Type) int {
	i--
	b[i] = byte(num)<<3 | byte(typ)
	return i
}

// putLen writes the tag and length n of a length-delimited field whose n
// bytes start at b[i].
func putLen(b []byte, i int, num protowire.Number, n int) int {
	i = putVarint(b, i, uint64(n))
	return putTag(b, i, num, protowire.BytesType)
}

func putString(b []byte, i int, num protowire.Number, s string) int {
	if s == "" {
		return i
	}
	i -= len(s)
	copy(b[i:], s)
	return putLen(b, i, num, len(s))
}

func putBytes(b []byte, i int, num protowire.Number, v []byte) int {
	if len(v) == 0 {
		return i
	}
	i -= len(v)
	copy(b[i:], v)
	return putLen(b, i, num, len(v))
}

func putUint(b []byte, i int, num protowire.Number, v uint64) int {
	if v == 0 {
		return i
	}
	i = putVarint(b, i, v)
	return putTag(b, i, num, protowire.VarintType)
}

func putAnyField(b []byte, i int, num protowire.Number, a *anypb.Any) int {
	if a == nil {
		return i
	}
	end := i
	i = putBytes(b, i, 2, a.Value)
	i = putString(b, i, 1, a.TypeUrl)
	return putLen(b, i, num, end-i)
}
