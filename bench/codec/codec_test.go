package codec_test

import (
	"bytes"
	"flag"
	"fmt"
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/bench/codec/wirevt"
	"github.com/switchboard-go/switchboard/internal/wire"
)

var rounds = flag.Int("codec.rounds", 0, "rounds of the interleaved hand-versus-vtprotobuf comparison (0: skip it)")

// The messages of one request through an exchange, as patterns' Client and
// Controller send them: the envelope (with one trace header, as under
// tracing), the call frame that carries it to the exchange, and the reply.
func envelope() *wire.Envelope {
	p, _ := anypb.New(wrapperspb.String("ping"))
	return &wire.Envelope{Exchange: "ping", RequestTag: "$12", RequestId: 0x5eed_1234_5678_9abc,
		ReplyAddress: "127.0.0.1:40000", DeadlineUnixNano: 1_800_000_000_000_000_000, Payload: p,
		Headers: map[string]string{"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}}
}

func callFrame() *wire.Frame {
	env, _ := wire.PackAny(envelope())
	return &wire.Frame{From: &wire.Pid{Address: "127.0.0.1:40000", Id: "$node"}, To: "$3",
		Body: &wire.Frame_Call{Call: &wire.Call{Ref: 0x5eed_1234_5678_9abc, Payload: env}}}
}

func replyFrame() *wire.Frame {
	p, _ := anypb.New(wrapperspb.String("pong"))
	return &wire.Frame{Body: &wire.Frame_Reply{Reply: &wire.Reply{Ref: 0x5eed_1234_5678_9abc, Payload: p}}}
}

// vtMessage is what vtprotobuf generates for every message.
type vtMessage interface {
	proto.Message
	SizeVT() int
	MarshalToSizedBufferVT([]byte) (int, error)
	UnmarshalVT([]byte) error
}

// to converts m to its wirevt twin, through its bytes.
func to[V any, P interface {
	*V
	vtMessage
}](m proto.Message) P {
	b, err := proto.Marshal(m)
	if err != nil {
		panic(err)
	}
	v := P(new(V))
	if err := v.UnmarshalVT(b); err != nil {
		panic(err)
	}
	return v
}

// marshalVT encodes m into buf (grown if needed), as a sender reusing its
// buffer would.
func marshalVT(buf []byte, m vtMessage) []byte {
	n := m.SizeVT()
	buf = slices.Grow(buf[:0], n)[:n]
	if _, err := m.MarshalToSizedBufferVT(buf); err != nil {
		panic(err)
	}
	return buf
}

type impl struct {
	name string
	run  func(b *testing.B)
}

type comparison struct {
	name  string
	impls []impl // the hand codec first
}

// comparisons are the cases, each with the hand codec and vtprotobuf's,
// pooled and not (a pooled message is taken from its pool and returned
// after use, as a receiver that is done with the message would).
func comparisons() []comparison {
	env, call, reply := envelope(), callFrame(), replyFrame()
	venv, vcall, vreply := to[wirevt.Envelope](env), to[wirevt.Frame](call), to[wirevt.Frame](reply)
	encEnv, _ := wire.AppendEnvelope(nil, env)
	encCall, _ := wire.AppendFrame(nil, call)
	encReply, _ := wire.AppendFrame(nil, reply)
	buf := make([]byte, 0, 512)
	check := func(b *testing.B, err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	frameEncode := func(f *wire.Frame, vf *wirevt.Frame) []impl {
		return []impl{
			{"hand", func(b *testing.B) {
				for b.Loop() {
					buf, _ = wire.AppendFrame(buf[:0], f)
				}
			}},
			{"vtproto", func(b *testing.B) {
				for b.Loop() {
					buf = marshalVT(buf, vf)
				}
			}},
		}
	}
	frameDecode := func(enc []byte) []impl {
		return []impl{
			{"hand", func(b *testing.B) {
				for b.Loop() {
					check(b, wire.UnmarshalFrame(enc, &wire.Frame{}))
				}
			}},
			{"vtproto", func(b *testing.B) {
				for b.Loop() {
					check(b, (&wirevt.Frame{}).UnmarshalVT(enc))
				}
			}},
			{"vtproto+pool", func(b *testing.B) {
				for b.Loop() {
					f := wirevt.FrameFromVTPool()
					check(b, f.UnmarshalVT(enc))
					f.ReturnToVTPool()
				}
			}},
		}
	}
	return []comparison{
		{"encode/envelope", []impl{
			{"hand", func(b *testing.B) {
				for b.Loop() {
					buf, _ = wire.AppendEnvelope(buf[:0], env)
				}
			}},
			{"vtproto", func(b *testing.B) {
				for b.Loop() {
					buf = marshalVT(buf, venv)
				}
			}},
		}},
		{"encode/call", frameEncode(call, vcall)},
		{"encode/reply", frameEncode(reply, vreply)},
		{"decode/envelope", []impl{
			{"hand", func(b *testing.B) {
				for b.Loop() {
					check(b, wire.UnmarshalEnvelope(encEnv, &wire.Envelope{}))
				}
			}},
			{"vtproto", func(b *testing.B) {
				for b.Loop() {
					check(b, (&wirevt.Envelope{}).UnmarshalVT(encEnv))
				}
			}},
			{"vtproto+pool", func(b *testing.B) {
				for b.Loop() {
					e := wirevt.EnvelopeFromVTPool()
					check(b, e.UnmarshalVT(encEnv))
					e.ReturnToVTPool()
				}
			}},
		}},
		{"decode/call", frameDecode(encCall)},
		{"decode/reply", frameDecode(encReply)},
	}
}

// BenchmarkCodec runs every case once: go test -bench . -benchmem ./codec.
func BenchmarkCodec(b *testing.B) {
	for _, c := range comparisons() {
		for _, im := range c.impls {
			b.Run(c.name+"/"+im.name, func(b *testing.B) {
				b.ReportAllocs()
				im.run(b)
			})
		}
	}
}

// TestSameBytes: the two codecs write the same bytes for the benchmark's
// messages (the envelope's one header leaves no order to choose), and each
// decodes the other's, so the comparison is of like with like.
func TestSameBytes(t *testing.T) {
	env, call, reply := envelope(), callFrame(), replyFrame()
	hand := func(m proto.Message) []byte {
		var b []byte
		var err error
		switch m := m.(type) {
		case *wire.Envelope:
			b, err = wire.AppendEnvelope(nil, m)
		case *wire.Frame:
			b, err = wire.AppendFrame(nil, m)
		}
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, c := range []struct {
		m  proto.Message
		vt vtMessage
	}{{env, to[wirevt.Envelope](env)}, {call, to[wirevt.Frame](call)}, {reply, to[wirevt.Frame](reply)}} {
		h, v := hand(c.m), marshalVT(nil, c.vt)
		if !bytes.Equal(h, v) {
			t.Errorf("%T:\nhand    %x\nvtproto %x", c.m, h, v)
		}
		back := c.vt.ProtoReflect().New().Interface().(vtMessage)
		if err := back.UnmarshalVT(h); err != nil || !proto.Equal(back, c.vt) {
			t.Errorf("%T: vtproto decoded %v (%v), want %v", c.m, back, err, c.vt)
		}
	}
}

type sample struct{ ns, allocs, bytes []float64 }

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// TestCodecCompare is the decision's measurement: -codec.rounds rounds,
// every implementation of a case run in each round, their order reversed
// every other round; a Markdown table of medians.
func TestCodecCompare(t *testing.T) {
	if *rounds == 0 {
		t.Skip("-codec.rounds 0")
	}
	cs := comparisons()
	got := map[string]*sample{}
	for r := range *rounds {
		for _, c := range cs {
			order := slices.Clone(c.impls)
			if r%2 == 1 {
				slices.Reverse(order)
			}
			for _, im := range order {
				res := testing.Benchmark(func(b *testing.B) { b.ReportAllocs(); im.run(b) })
				k := c.name + "/" + im.name
				if got[k] == nil {
					got[k] = &sample{}
				}
				s := got[k]
				s.ns = append(s.ns, float64(res.NsPerOp()))
				s.allocs = append(s.allocs, float64(res.AllocsPerOp()))
				s.bytes = append(s.bytes, float64(res.AllocedBytesPerOp()))
			}
		}
	}
	out := fmt.Sprintf("%d interleaved rounds, medians\n\n| case | codec | ns/op | allocs/op | B/op | ns vs hand | allocs vs hand |\n|---|---|---:|---:|---:|---:|---:|\n", *rounds)
	for _, c := range cs {
		h := got[c.name+"/"+c.impls[0].name]
		for _, im := range c.impls {
			s := got[c.name+"/"+im.name]
			ratio := func(a, b float64) string {
				if b == 0 {
					if a == 0 {
						return "="
					}
					return "+∞"
				}
				return fmt.Sprintf("%+.0f %%", 100*(a/b-1))
			}
			out += fmt.Sprintf("| %s | %s | %.0f | %.0f | %.0f | %s | %s |\n", c.name, im.name,
				median(s.ns), median(s.allocs), median(s.bytes),
				ratio(median(s.ns), median(h.ns)), ratio(median(s.allocs), median(h.allocs)))
		}
	}
	t.Log("\n" + out)
}

// TestVTProtoSkipsUTF8 holds down one reason the decision is not only
// speed: vtprotobuf v0.6.0 neither checks that a string is UTF-8 when it
// encodes nor when it decodes, where proto (and so the hand codec, which
// the fuzz targets hold to proto) refuses such a message. If a later
// version checks, this fails, and the comparison should be run again.
func TestVTProtoSkipsUTF8(t *testing.T) {
	bad := []byte{0x12, 0x01, 0xff} // Frame.to = "\xff"
	if err := proto.Unmarshal(bad, &wire.Frame{}); err == nil {
		t.Fatal("proto decoded a string that is not UTF-8")
	}
	if err := wire.UnmarshalFrame(bad, &wire.Frame{}); err == nil {
		t.Fatal("the hand codec decoded a string that is not UTF-8")
	}
	var f wirevt.Frame
	if err := f.UnmarshalVT(bad); err != nil || f.To != "\xff" {
		t.Fatalf("vtproto: %q, %v; want the string decoded unchecked", f.To, err)
	}
	if _, err := f.MarshalVT(); err != nil {
		t.Fatalf("vtproto refused to encode it: %v", err)
	}
	if _, err := wire.AppendFrame(nil, &wire.Frame{To: "\xff"}); err == nil {
		t.Fatal("the hand codec encoded a string that is not UTF-8")
	}
}
