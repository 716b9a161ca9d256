package wire_test

import (
	"bytes"
	"strings"
	"testing"
	"unsafe"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/internal/cputime"
	"github.com/switchboard-go/switchboard/internal/wire"
)

func envelope() *wire.Envelope {
	p, _ := anypb.New(wrapperspb.String("ping"))
	return &wire.Envelope{
		Exchange: "ping", RequestTag: "t", RequestId: 1 << 40, ReplyAddress: "127.0.0.1:4000",
		DeadlineUnixNano: 1_800_000_000_000_000_000, ServiceTag: "s", RoutingKey: "a.b",
		IdempotencyKey: "k", Payload: p, Hops: 3, WantAll: true, ConnectionTag: "c",
		Headers: map[string]string{"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "b": "", "": "v"},
	}
}

// frames are messages of every shape the hand codec writes, and some it
// leaves to proto.
func frames() []*wire.Frame {
	env, _ := anypb.New(envelope())
	from := &wire.Pid{Address: "127.0.0.1:4000", Id: "$node"}
	withUnknown := &wire.Frame{To: "$1"}
	withUnknown.ProtoReflect().SetUnknown(protowire.AppendVarint(protowire.AppendTag(nil, 99, protowire.VarintType), 1))
	return []*wire.Frame{
		{},
		{From: from, To: "$3", Body: &wire.Frame_Call{Call: &wire.Call{Ref: 7, Payload: env}}},
		{From: from, Body: &wire.Frame_Call{Call: &wire.Call{Ref: 1 << 63, Payload: env, ReplyAddress: "10.0.0.1:1"}}},
		{From: &wire.Pid{}, Body: &wire.Frame_Call{Call: &wire.Call{}}},
		{Body: &wire.Frame_Reply{Reply: &wire.Reply{Ref: 9, Payload: &anypb.Any{TypeUrl: "x/y"}}}},
		{Body: &wire.Frame_Reply{Reply: &wire.Reply{Ref: 9, Error: &wire.Error{Code: wire.Code_CODE_OTHER, Text: "boom"}}}},
		{Body: &wire.Frame_Reply{Reply: &wire.Reply{Error: &wire.Error{}}}},
		{From: from, To: "$4", Body: &wire.Frame_Cast{Cast: &wire.Payload{Payload: env}}},
		{From: from, To: "$4", Body: &wire.Frame_Info{Info: &wire.Payload{}}},
		{From: from, To: "$5", Body: &wire.Frame_Monitor{Monitor: &wire.Monitor{Ref: 3}}},
		{From: from, To: "$5", Body: &wire.Frame_Exit{Exit: &wire.Exit{Reason: &wire.Error{Code: wire.Code_CODE_KILL}, Linked: true}}},
		{Body: &wire.Frame_Call{}},
		withUnknown,
	}
}

func TestAppendFrameIsProtoMarshal(t *testing.T) {
	for i, f := range frames() {
		want, err := proto.MarshalOptions{Deterministic: true}.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		got, err := wire.AppendFrame([]byte{0xAA}, f)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if got[0] != 0xAA || !bytes.Equal(got[1:], want) {
			t.Errorf("frame %d:\n got %x\nwant %x", i, got[1:], want)
		}
		var back wire.Frame
		if err := wire.UnmarshalFrame(got[1:], &back); err != nil || !proto.Equal(&back, f) {
			t.Errorf("frame %d: decoded %v (%v), want %v", i, &back, err, f)
		}
	}
}

// TestAppendRefusesWhatProtoRefuses: a string that is not UTF-8 is an
// error, as from proto.Marshal, not a frame the receiver cannot decode.
func TestAppendRefusesWhatProtoRefuses(t *testing.T) {
	bad := "\xff"
	for i, f := range []*wire.Frame{
		{To: bad},
		{From: &wire.Pid{Id: bad}},
		{Body: &wire.Frame_Call{Call: &wire.Call{ReplyAddress: bad}}},
		{Body: &wire.Frame_Reply{Reply: &wire.Reply{Error: &wire.Error{Text: bad}}}},
		{Body: &wire.Frame_Cast{Cast: &wire.Payload{Payload: &anypb.Any{TypeUrl: bad}}}},
	} {
		if _, err := wire.AppendFrame(nil, f); err == nil {
			t.Errorf("frame %d: no error", i)
		}
	}
	for _, e := range []*wire.Envelope{{RoutingKey: bad}, {Headers: map[string]string{bad: "v"}}, {Headers: map[string]string{"k": bad}}} {
		if _, err := wire.AppendEnvelope(nil, e); err == nil {
			t.Errorf("envelope %v: no error", e)
		}
	}
}

func TestAppendEnvelopeIsProtoMarshal(t *testing.T) {
	for _, e := range []*wire.Envelope{{}, envelope(), {Exchange: "x", DeadlineUnixNano: -1, Payload: &anypb.Any{}},
		{StartByNs: -5, Attempt: 1}, {IdempotencyKey: "k", StartByNs: 1_500_000_000, Attempt: 1 << 62},
		{Headers: map[string]string{"k": "v"}}, {Headers: map[string]string{}}} {
		want, _ := proto.MarshalOptions{Deterministic: true}.Marshal(e)
		got, err := wire.AppendEnvelope(nil, e)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%v:\n got %x (%v)\nwant %x", e, got, err, want)
		}
		var back wire.Envelope
		if err := wire.UnmarshalEnvelope(got, &back); err != nil || !proto.Equal(&back, e) {
			t.Errorf("decoded %v (%v), want %v", &back, err, e)
		}
	}
}

// FuzzUnmarshalFrame checks that the hand decoder agrees with proto on
// every input: the same message, or an error where proto has one.
func FuzzUnmarshalFrame(f *testing.F) {
	for _, fr := range frames() {
		b, _ := proto.Marshal(fr)
		f.Add(b)
	}
	f.Add([]byte{0x1a, 0x02, 0x08, 0x01, 0x1a, 0x02, 0x08, 0x02}) // a body twice: proto merges
	f.Add([]byte{0x12, 0x01, 0xff})                               // invalid UTF-8
	f.Add([]byte{0x12, 0x01, 0xff, 0x12, 0x01, 'a'})              // invalid UTF-8, then replaced
	f.Add([]byte{0x12, 0x02, 0xc3, 0xa9})                         // UTF-8, not ASCII
	f.Add([]byte{0x22, 0x06, 0x1a, 0x04, 0x12, 0x02, 0xc3, 0x28}) // Reply.error.text not UTF-8
	// A known field with the wrong wire type is an unknown field to proto.
	f.Add([]byte{0x1a, 0x04, 0x0a, 0x00, 0x1a, 0x00}) // Call.ref as bytes, then a second body
	f.Add([]byte{0x1a, 0x02, 0x0a, 0x00})             // Call.ref as bytes
	f.Add([]byte{0x1a, 0x02, 0x10, 0x01})             // Call.payload as a varint
	f.Add([]byte{0x0a, 0x02, 0x08, 0x01})             // Pid.address as a varint
	f.Add([]byte{0x22, 0x04, 0x1a, 0x02, 0x08, 0x80}) // Reply.error with a truncated varint
	f.Fuzz(agreesWithProto(wire.UnmarshalFrame))
}

// FuzzUnmarshalFrameOwned is FuzzUnmarshalFrame for UnmarshalFrameOwned,
// which may alias its input.
func FuzzUnmarshalFrameOwned(f *testing.F) {
	for _, fr := range frames() {
		b, _ := proto.Marshal(fr)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var want, got wire.Frame
		werr := proto.Unmarshal(b, &want)
		gerr := wire.UnmarshalFrameOwned(b, &got)
		if (werr == nil) != (gerr == nil) || (werr == nil && !proto.Equal(&want, &got)) {
			t.Fatalf("%x: proto %v (%v), owned %v (%v)", b, &want, werr, &got, gerr)
		}
	})
}

// TestOwnedFrameAliasesLargeValues: UnmarshalFrameOwned keeps a large
// payload in its input, and copies strings and small values.
func TestOwnedFrameAliasesLargeValues(t *testing.T) {
	long := strings.Repeat("a", 300)
	for _, small := range []bool{false, true} {
		size := 1 << 20
		if small {
			size = 10
		}
		b, _ := proto.Marshal(&wire.Frame{From: &wire.Pid{Address: long, Id: "$1"},
			Body: &wire.Frame_Cast{Cast: &wire.Payload{Payload: &anypb.Any{TypeUrl: "x/y", Value: make([]byte, size)}}}})
		var f wire.Frame
		if err := wire.UnmarshalFrameOwned(b, &f); err != nil {
			t.Fatal(err)
		}
		lo, hi := uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(unsafe.Pointer(unsafe.SliceData(b)))+uintptr(len(b))
		in := func(p unsafe.Pointer) bool { return uintptr(p) >= lo && uintptr(p) < hi }
		v := f.GetCast().GetPayload().GetValue()
		if len(v) != size || in(unsafe.Pointer(unsafe.SliceData(v))) == small {
			t.Fatalf("value of %d bytes: aliases the input: %v; want %v", size, small, !small)
		}
		if in(unsafe.Pointer(unsafe.StringData(f.GetFrom().GetAddress()))) {
			t.Fatal("a string points into the input")
		}
	}
}

// FuzzUnmarshalEnvelope is FuzzUnmarshalFrame for envelopes.
func FuzzUnmarshalEnvelope(f *testing.F) {
	b, _ := proto.Marshal(envelope())
	f.Add(b)
	f.Add([]byte{0x4a, 0x00, 0x4a, 0x02, 0x0a, 0x00})                               // the payload twice
	f.Add([]byte{0x52, 0x00})                                                       // hops as bytes
	f.Add([]byte{0x18, 0x01, 0x58, 0x02, 0x28, 0x7f})                               // varints
	f.Add([]byte{0x70, 0x80, 0x94, 0xeb, 0xdc, 0x03, 0x78, 0x07})                   // start_by_ns, attempt
	f.Add([]byte{0x70, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}) // start_by_ns negative
	f.Add([]byte{0x72, 0x01, 0x00, 0x7a, 0x00})                                     // start_by_ns and attempt as bytes
	f.Add([]byte{0x78, 0x01, 0x78, 0x02})                                           // attempt twice
	// Headers: map entries of every shape proto accepts.
	f.Add([]byte{0x6a, 0x06, 0x0a, 0x01, 'k', 0x12, 0x01, 'v'})                                   // key, value
	f.Add([]byte{0x6a, 0x06, 0x12, 0x01, 'v', 0x0a, 0x01, 'k'})                                   // value first
	f.Add([]byte{0x6a, 0x03, 0x0a, 0x01, 'k'})                                                    // no value
	f.Add([]byte{0x6a, 0x00})                                                                     // empty entry
	f.Add([]byte{0x6a, 0x03, 0x0a, 0x01, 'k', 0x6a, 0x03, 0x0a, 0x01, 'k'})                       // a key twice
	f.Add([]byte{0x6a, 0x06, 0x0a, 0x01, 'k', 0x0a, 0x01, 'j'})                                   // key field twice
	f.Add([]byte{0x6a, 0x05, 0x0a, 0x01, 'k', 0x18, 0x01})                                        // unknown field in an entry
	f.Add([]byte{0x6a, 0x04, 0x08, 0x01, 0x12, 0x00})                                             // key as a varint
	f.Add([]byte{0x6a, 0x03, 0x0a, 0x01, 0xff})                                                   // key not UTF-8
	f.Add([]byte{0x6a, 0x04, 0x12, 0x02, 0xc3, 0xa9, 0x3a, 0x01, 'k'})                            // value not ASCII, a routing key
	f.Add([]byte{0x0a, 0x01, 0xff, 0x0a, 0x01, 'x'})                                              // exchange not UTF-8, then replaced
	f.Add([]byte{0x68, 0x01})                                                                     // headers as a varint
	f.Add([]byte{0x6a, 0x02, 0x0a, 0x05})                                                         // truncated key
	f.Add([]byte{0x0a, 0x01, 'x', 0x6a, 0x06, 0x0a, 0x01, 'k', 0x12, 0x01, 'v', 0x0a, 0x01, 'y'}) // between fields
	f.Fuzz(agreesWithProto(wire.UnmarshalEnvelope))
}

// FuzzAppendFrame checks the encoder against proto.Marshal on whatever
// proto decodes from the input, with a typed nil body on the side.
func FuzzAppendFrame(f *testing.F) {
	for _, fr := range frames() {
		b, _ := proto.Marshal(fr)
		f.Add(b, false)
	}
	f.Fuzz(func(t *testing.T, b []byte, nilBody bool) {
		var m wire.Frame
		if proto.Unmarshal(b, &m) != nil {
			return
		}
		if nilBody {
			m.Body = (*wire.Frame_Reply)(nil)
		}
		want, werr := proto.MarshalOptions{Deterministic: true}.Marshal(&m)
		got, gerr := wire.AppendFrame(nil, &m)
		if (werr == nil) != (gerr == nil) || !bytes.Equal(got, want) {
			t.Fatalf("%v: proto %x (%v), hand %x (%v)", &m, want, werr, got, gerr)
		}
	})
}

// agreesWithProto is a fuzz target comparing decode with proto.Unmarshal.
func agreesWithProto[M any, P interface {
	*M
	proto.Message
}](decode func([]byte, P) error) func(*testing.T, []byte) {
	return func(t *testing.T, b []byte) {
		want, got := P(new(M)), P(new(M))
		werr := proto.Unmarshal(b, want)
		gerr := decode(b, got)
		for i := range b { // what was decoded must not alias the input
			b[i] ^= 0xff
		}
		if (werr == nil) != (gerr == nil) || (werr == nil && !proto.Equal(want, got)) {
			t.Fatalf("%x: proto %v (%v), hand %v (%v)", b, want, werr, got, gerr)
		}
	}
}

// TestNilMessages: nil messages are encoded as proto encodes them, not a
// panic.
func TestNilMessages(t *testing.T) {
	for _, f := range []*wire.Frame{nil, {To: "x", Body: (*wire.Frame_Call)(nil)}, {Body: (*wire.Frame_Info)(nil)}} {
		want, _ := proto.Marshal(f)
		if got, err := wire.AppendFrame(nil, f); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%v: %x (%v), want %x", f, got, err, want)
		}
	}
	want, _ := anypb.New((*wire.Envelope)(nil))
	if got, err := wire.PackAny((*wire.Envelope)(nil)); err != nil || !proto.Equal(got, want) {
		t.Errorf("PackAny(nil envelope) = %v (%v), want %v", got, err, want)
	}
}

// TestFastPathAllocations: a call frame decodes in the hand codec's
// allocations (slab, sender, body block), not proto's ten.
func TestFastPathAllocations(t *testing.T) {
	env, _ := anypb.New(envelope())
	b, _ := proto.Marshal(&wire.Frame{From: &wire.Pid{Address: "a", Id: "b"}, To: "c",
		Body: &wire.Frame_Call{Call: &wire.Call{Ref: 1, Payload: env}}})
	allocs := testing.AllocsPerRun(100, func() {
		if err := wire.UnmarshalFrame(b, &wire.Frame{}); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 4 {
		t.Fatalf("%v allocations to decode a call frame, want at most 4", allocs)
	}
}

// TestSmallStringsDoNotHoldLargeValues: the sender's address, kept by a
// deferred reply, shares no allocation with a large payload.
func TestSmallStringsDoNotHoldLargeValues(t *testing.T) {
	b, _ := proto.Marshal(&wire.Frame{From: &wire.Pid{Address: "127.0.0.1:4000", Id: "$1"},
		Body: &wire.Frame_Call{Call: &wire.Call{Payload: &anypb.Any{TypeUrl: "x/y", Value: make([]byte, 1<<20)}}}})
	var f wire.Frame
	if err := wire.UnmarshalFrame(b, &f); err != nil {
		t.Fatal(err)
	}
	v := f.GetCall().GetPayload().GetValue()
	lo, hi := uintptr(unsafe.Pointer(unsafe.SliceData(v))), uintptr(unsafe.Pointer(unsafe.SliceData(v)))+uintptr(cap(v))
	if a := uintptr(unsafe.Pointer(unsafe.StringData(f.GetFrom().GetAddress()))); a >= lo && a < hi {
		t.Fatal("the address points into the payload's allocation")
	}
}

func BenchmarkFrameCodec(b *testing.B) {
	env, _ := anypb.New(envelope())
	f := &wire.Frame{From: &wire.Pid{Address: "127.0.0.1:4000", Id: "$node"}, To: "$3",
		Body: &wire.Frame_Call{Call: &wire.Call{Ref: 7, Payload: env}}}
	enc, _ := proto.Marshal(f)
	buf := make([]byte, 0, 256)
	b.Run("encode/proto", func(b *testing.B) {
		for b.Loop() {
			buf, _ = proto.MarshalOptions{}.MarshalAppend(buf[:0], f)
		}
	})
	b.Run("encode/hand", func(b *testing.B) {
		defer reportCPU(b)()
		for b.Loop() {
			buf, _ = wire.AppendFrame(buf[:0], f)
		}
	})
	b.Run("decode/proto", func(b *testing.B) {
		for b.Loop() {
			_ = proto.Unmarshal(enc, &wire.Frame{})
		}
	})
	b.Run("decode/hand", func(b *testing.B) {
		defer reportCPU(b)()
		for b.Loop() {
			_ = wire.UnmarshalFrame(enc, &wire.Frame{})
		}
	})
}

// BenchmarkRequestCodec is what a node does to an exchange request that
// crosses it: the envelope and the call frame carrying it, as
// actor.sendCall encodes them (the envelope into a buffer of its own, the
// frame after), and decoded as the receiving node does (the frame, then
// the envelope in its payload).
func BenchmarkRequestCodec(b *testing.B) {
	p, _ := anypb.New(wrapperspb.String("ping"))
	e := &wire.Envelope{Exchange: "ping", RequestId: 0xfedcba9876543210, ReplyAddress: "127.0.0.1:40000",
		DeadlineUnixNano: 1_800_000_000_000_000_000, Payload: p, ConnectionTag: "c1", StartByNs: 1_800_000_000_000_000_000}
	a := &anypb.Any{TypeUrl: wire.TypeURL(e)}
	f := &wire.Frame{From: &wire.Pid{Address: "127.0.0.1:40001", Id: "$node"}, To: "$12",
		Body: &wire.Frame_Call{Call: &wire.Call{Ref: 0x0123456789abcdef, Payload: a, ReplyAddress: "127.0.0.1:40000"}}}
	var ebuf, fbuf []byte
	encode := func() {
		ebuf, _ = wire.AppendPacked(ebuf[:0], e)
		a.Value = ebuf
		fbuf, _ = wire.AppendFrame(fbuf[:0], f)
	}
	encode()
	enc := append([]byte(nil), fbuf...)
	b.Run("encode", func(b *testing.B) {
		defer reportCPU(b)()
		for b.Loop() {
			encode()
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		defer reportCPU(b)()
		for b.Loop() {
			var g wire.Frame
			if err := wire.UnmarshalFrame(enc, &g); err != nil {
				b.Fatal(err)
			}
			if _, err := wire.UnpackAny(g.GetCall().GetPayload()); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// reportCPU starts counting the process's CPU time; the function it
// returns reports it per operation (cpu-ns/op: on a shared machine it
// repeats where ns/op does not).
func reportCPU(b *testing.B) func() {
	cpu := cputime.Self()
	return func() { b.ReportMetric(float64(cputime.Self()-cpu)/float64(b.N), "cpu-ns/op") }
}

func TestPackAny(t *testing.T) {
	e := envelope()
	want, _ := anypb.New(e)
	got, err := wire.PackAny(e)
	if err != nil || got.GetTypeUrl() != want.GetTypeUrl() { // the bytes: map order is proto's choice
		t.Fatalf("PackAny = %v (%v), want %v", got, err, want)
	}
	back, err := wire.UnpackAny(got)
	if err != nil || !proto.Equal(back, e) {
		t.Fatalf("UnpackAny = %v (%v), want %v", back, err, e)
	}
	s, _ := wire.PackAny(wrapperspb.String("x"))
	if v, err := wire.UnpackAny(s); err != nil || v.(*wrapperspb.StringValue).GetValue() != "x" {
		t.Fatalf("UnpackAny(StringValue) = %v, %v", v, err)
	}
	if _, err := wire.UnpackAny(&anypb.Any{TypeUrl: want.TypeUrl, Value: []byte{0xff}}); err == nil {
		t.Fatal("UnpackAny of a broken envelope: no error")
	}
}

// FuzzAppendEnvelope checks the envelope encoder (headers in key order
// among them) against proto's deterministic marshaling on whatever proto
// decodes from the input.
func FuzzAppendEnvelope(f *testing.F) {
	b, _ := proto.Marshal(envelope())
	f.Add(b)
	f.Add([]byte{0x6a, 0x06, 0x0a, 0x01, 'k', 0x12, 0x01, 'v', 0x6a, 0x06, 0x0a, 0x01, 'a', 0x12, 0x01, 'w'})
	f.Add([]byte{0x6a, 0x00, 0x6a, 0x03, 0x0a, 0x01, 'k'})
	f.Fuzz(func(t *testing.T, b []byte) {
		var e wire.Envelope
		if proto.Unmarshal(b, &e) != nil {
			return
		}
		want, werr := proto.MarshalOptions{Deterministic: true}.Marshal(&e)
		got, gerr := wire.AppendEnvelope(nil, &e)
		if (werr == nil) != (gerr == nil) || !bytes.Equal(got, want) {
			t.Fatalf("%v: proto %x (%v), hand %x (%v)", &e, want, werr, got, gerr)
		}
	})
}

// TestStringsCheckedForUTF8: a string that is not valid UTF-8 in any
// string field of a frame or an envelope is refused, as proto refuses it,
// and one of UTF-8 that is not ASCII decodes; the hand decoder checks them
// all in one test and only looks again when a byte is not ASCII.
func TestStringsCheckedForUTF8(t *testing.T) {
	const mark = "@@"
	env := &wire.Envelope{Exchange: mark, RequestTag: mark, ReplyAddress: mark, ServiceTag: mark, RoutingKey: mark,
		IdempotencyKey: mark, ConnectionTag: mark, Payload: &anypb.Any{TypeUrl: mark}, Headers: map[string]string{mark: mark}}
	from := &wire.Pid{Address: mark, Id: mark}
	msgs := []proto.Message{env,
		&wire.Frame{From: from, To: mark, Body: &wire.Frame_Call{Call: &wire.Call{ReplyAddress: mark, Payload: &anypb.Any{TypeUrl: mark}}}},
		&wire.Frame{Body: &wire.Frame_Reply{Reply: &wire.Reply{Payload: &anypb.Any{TypeUrl: mark}, Error: &wire.Error{Text: mark}}}},
		&wire.Frame{Body: &wire.Frame_Cast{Cast: &wire.Payload{Payload: &anypb.Any{TypeUrl: mark}}}},
		&wire.Frame{Body: &wire.Frame_Info{Info: &wire.Payload{Payload: &anypb.Any{TypeUrl: mark}}}},
	}
	for _, m := range msgs {
		b, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < bytes.Count(b, []byte(mark)); i++ {
			for _, c := range []struct {
				with string
				ok   bool
			}{{"\xff@", false}, {"é", true}, {"ab", true}} {
				in := bytes.Clone(b)
				at := indexNth(in, mark, i)
				copy(in[at:], c.with)
				var gerr, werr error
				if _, isEnv := m.(*wire.Envelope); isEnv {
					gerr, werr = wire.UnmarshalEnvelope(in, &wire.Envelope{}), proto.Unmarshal(in, &wire.Envelope{})
				} else {
					gerr, werr = wire.UnmarshalFrame(in, &wire.Frame{}), proto.Unmarshal(in, &wire.Frame{})
				}
				if (gerr == nil) != c.ok || (werr == nil) != c.ok {
					t.Errorf("%T, string %d as %q: hand %v, proto %v; want ok %v", m, i, c.with, gerr, werr, c.ok)
				}
			}
		}
	}
}

// indexNth is the index of the nth (from 0) occurrence of sep in b.
func indexNth(b []byte, sep string, n int) int {
	at := 0
	for ; n >= 0; n-- {
		i := bytes.Index(b[at:], []byte(sep))
		if n == 0 {
			return at + i
		}
		at += i + len(sep)
	}
	return -1
}

// BenchmarkUnpackPayload is what a node does to the payload of a request
// or a reply that is not an Envelope: a.UnmarshalNew, its message type
// from UnpackAny's cache.
func BenchmarkUnpackPayload(b *testing.B) {
	a, _ := anypb.New(wrapperspb.String("ping"))
	b.ReportAllocs()
	defer reportCPU(b)()
	for b.Loop() {
		if _, err := wire.UnpackAny(a); err != nil {
			b.Fatal(err)
		}
	}
}
