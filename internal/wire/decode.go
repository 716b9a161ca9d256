package wire

import (
	"unicode/utf8"
	"unsafe"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// UnmarshalFrame decodes b into f, which must be empty, with the result and
// the errors of proto.Unmarshal. A frame carrying a call, a reply, a cast or
// an info, whose every field is one wire.proto declares, appearing once, is
// decoded by hand; any other input goes to proto.Unmarshal.
func UnmarshalFrame(b []byte, f *Frame) error {
	return unmarshalFrame(b, f, false)
}

// UnmarshalFrameOwned is UnmarshalFrame for a b that the caller hands
// over: the large payload values (128 bytes or more) of the frame alias b
// instead of being copied, so b must not be written to or reused
// afterwards. It saves a copy, and the garbage of b, for large frames read
// into a buffer of their own.
func UnmarshalFrameOwned(b []byte, f *Frame) error {
	return unmarshalFrame(b, f, true)
}

// unmarshalFrame decodes by hand, checking the strings in one test for
// ASCII (see ascii.go); a frame with other bytes in its strings is decoded
// again, each string checked for UTF-8; what the hand decoder does not
// take goes to proto.
func unmarshalFrame(b []byte, f *Frame, own bool) error {
	d := decoder{own: own}
	if d.frame(b, f) {
		if d.hi&notASCII == 0 {
			return nil
		}
		proto.Reset(f)
		if d = (decoder{own: own, strict: true}); d.frame(b, f) {
			return nil
		}
	}
	proto.Reset(f)
	return proto.Unmarshal(b, f)
}

// UnmarshalEnvelope decodes b into e, which must be empty, as
// UnmarshalFrame does a frame.
func UnmarshalEnvelope(b []byte, e *Envelope) error {
	return unmarshalEnvelope(b, e, nil, nil)
}

// unmarshalEnvelope is UnmarshalEnvelope, the payload going into spare if
// it is not nil and the small strings into slab while it has room.
func unmarshalEnvelope(b []byte, e *Envelope, spare *anypb.Any, slab []byte) error {
	d := decoder{spare: spare, slab: slab}
	if d.envelope(b, e) {
		if d.hi&notASCII == 0 {
			return nil
		}
		proto.Reset(e)
		if spare != nil {
			proto.Reset(spare)
		}
		if d = (decoder{spare: spare, slab: slab[:0], strict: true}); d.envelope(b, e) {
			return nil
		}
	}
	proto.Reset(e)
	return proto.Unmarshal(b, e)
}

// field is one field of an encoding: a varint's value or a length-delimited
// field's bytes (aliasing the input).
type field struct {
	num protowire.Number
	typ protowire.Type
	v   uint64
	b   []byte
}

// next reads the field at the start of b, and false for anything but a
// well-formed varint or length-delimited field. The fields here have a tag
// of one byte; their varints and lengths are read here, as protowire reads
// them, without its general functions (nextLong has the rest: longer
// tags, lengths of three bytes or more).
func next(b []byte) (field, []byte, bool) {
	if len(b) < 2 || b[0] >= 0x80 || b[0] < 8 {
		return nextLong(b)
	}
	num, typ := protowire.Number(b[0]>>3), protowire.Type(b[0]&7)
	switch typ {
	case protowire.VarintType:
		var v uint64
		for i := 1; i < len(b) && i <= 10; i++ {
			c := b[i]
			v |= uint64(c&0x7f) << (7 * (i - 1))
			if c < 0x80 {
				if i == 10 && c > 1 { // past 64 bits
					return field{}, nil, false
				}
				return field{num: num, typ: typ, v: v}, b[i+1:], true
			}
		}
		return field{}, nil, false
	case protowire.BytesType:
		n, i := int(b[1]), 2
		if n >= 0x80 {
			if len(b) < 3 || b[2] >= 0x80 {
				return nextLong(b)
			}
			n, i = n&0x7f|int(b[2])<<7, 3
		}
		if n > len(b)-i {
			return field{}, nil, false
		}
		return field{num: num, typ: typ, b: b[i : i+n]}, b[i+n:], true
	}
	return nextLong(b)
}

func nextLong(b []byte) (field, []byte, bool) {
	num, typ, n := protowire.ConsumeTag(b)
	if n < 0 {
		return field{}, nil, false
	}
	b = b[n:]
	f := field{num: num, typ: typ}
	switch typ {
	case protowire.VarintType:
		f.v, n = protowire.ConsumeVarint(b)
	case protowire.BytesType:
		f.b, n = protowire.ConsumeBytes(b)
	default:
		return field{}, nil, false
	}
	if n < 0 {
		return field{}, nil, false
	}
	return f, b[n:], true
}

// decoder decodes one message. Its small strings and bytes are copied into
// a slab of slabSize bytes (one for a whole frame, as a rule), never
// moved once written: the strings point into it, and nothing writes to
// what has been appended; a full slab is left to its strings and a new one
// started. A large value gets an allocation of its own, so that a small
// string kept long (the sender's address in a deferred reply, say) does
// not keep a large payload alive.
// An Any it decodes goes into spare, if set: the Any of a body or an
// envelope is allocated with it, in one block.
// Its strings are checked for UTF-8 in one test at the end (hi, the OR of
// their bytes, has no high bit: all ASCII) unless it is strict, which
// checks each one as it comes.
type decoder struct {
	slab   []byte
	spare  *anypb.Any
	hi     uint64 // the OR of the bytes of the strings decoded
	own    bool   // the input is the decoder's to keep: large values alias it
	strict bool   // check each string for UTF-8
}

// callBody, replyBody, castBody, infoBody and envelopeBody allocate a
// message with the wrapper, the Any, the sender's Pid and the slab of
// small strings that come with it: one allocation per decoded frame (and
// per envelope) instead of four or five. The slabs are sized for the
// common frames (a call carrying an envelope, a reply carrying a small
// message); a frame whose strings do not fit continues in a slab of its
// own (see keep). Each block is a size class of its own as it is: 512,
// 384, 352, 352 and 384 bytes.
type (
	callBody struct {
		w    Frame_Call
		c    Call
		a    anypb.Any
		from Pid
		slab [280]byte
	}
	replyBody struct {
		w    Frame_Reply
		r    Reply
		a    anypb.Any
		from Pid
		slab [160]byte
	}
	castBody struct {
		w    Frame_Cast
		p    Payload
		a    anypb.Any
		from Pid
		slab [144]byte
	}
	infoBody struct {
		w    Frame_Info
		p    Payload
		a    anypb.Any
		from Pid
		slab [144]byte
	}
	envelopeBody struct {
		e    Envelope
		a    anypb.Any
		slab [96]byte // 112 before Envelope's start_by_ns and attempt
	}
)

// slabSize is the size of a decoder's slabs; a value of half of it or more
// is allocated on its own.
const slabSize = 256

// keep copies v into the slab and returns the copy.
func (d *decoder) keep(v []byte) []byte {
	if len(v) == 0 {
		return nil
	}
	if len(v) > cap(d.slab)-len(d.slab) {
		if len(v) >= slabSize/2 {
			return append([]byte(nil), v...)
		}
		d.slab = make([]byte, 0, slabSize)
	}
	at := len(d.slab)
	d.slab = append(d.slab, v...)
	return d.slab[at:len(d.slab):len(d.slab)]
}

// value keeps the bytes of an Any's value: as keep does, or, from an
// input the decoder owns, a large one aliases the input. (Strings are
// always copied: a long-kept string must not hold a large input alive.)
func (d *decoder) value(v []byte) []byte {
	if d.own && len(v) >= slabSize/2 {
		return v[:len(v):len(v)]
	}
	return d.keep(v)
}

// str is f as a string field, and false unless it is one of valid UTF-8
// (proto3 strings are checked; unless d is strict, by the caller of the
// decoder, when hi has a high bit).
func (d *decoder) str(f field) (string, bool) {
	if !d.text(f) {
		return "", false
	}
	v := d.keep(f.b)
	return unsafe.String(unsafe.SliceData(v), len(v)), true
}

// text reports whether f is a string field: length-delimited, and (if d is
// strict) valid UTF-8; or else its bytes are added to hi.
func (d *decoder) text(f field) bool {
	if f.typ != protowire.BytesType {
		return false
	}
	if d.strict {
		return utf8.Valid(f.b)
	}
	d.hi = orBytes(d.hi, unsafe.String(unsafe.SliceData(f.b), len(f.b)))
	return true
}

// msg is f as a message field seen for the first time: a second occurrence
// would merge into the first, which is proto's to do.
func (f field) msg(seen *uint32) ([]byte, bool) {
	bit := uint32(1) << f.num
	if f.typ != protowire.BytesType || *seen&bit != 0 {
		return nil, false
	}
	*seen |= bit
	return f.b, true
}

func (d *decoder) frame(b []byte, fr *Frame) bool {
	// The fields are found first and decoded after, so that the block of
	// the body (which comes last, as a rule) can hold the sender too.
	var (
		seen       uint32
		from, body []byte
		to         field
		hasFrom    bool
		hasTo      bool
		num        protowire.Number
	)
	for len(b) > 0 {
		f, rest, ok := next(b)
		if !ok {
			return false
		}
		b = rest
		switch f.num {
		case 1:
			if from, ok = f.msg(&seen); !ok {
				return false
			}
			hasFrom = true
		case 2:
			if !d.text(f) { // every one checked, as proto does
				return false
			}
			to, hasTo = f, true // the last one kept, as proto has it
		case 3, 4, 5, 6:
			if seen&(1<<3|1<<4|1<<5|1<<6) != 0 { // a second body replaces or merges
				return false
			}
			if body, ok = f.msg(&seen); !ok {
				return false
			}
			num = f.num
		default:
			return false
		}
	}
	var pid *Pid
	switch num {
	case 3:
		blk := &callBody{}
		blk.w.Call, d.spare, d.slab, pid = &blk.c, &blk.a, blk.slab[:0], &blk.from
		fr.Body = &blk.w
	case 4:
		blk := &replyBody{}
		blk.w.Reply, d.spare, d.slab, pid = &blk.r, &blk.a, blk.slab[:0], &blk.from
		fr.Body = &blk.w
	case 5:
		blk := &castBody{}
		blk.w.Cast, d.spare, d.slab, pid = &blk.p, &blk.a, blk.slab[:0], &blk.from
		fr.Body = &blk.w
	case 6:
		blk := &infoBody{}
		blk.w.Info, d.spare, d.slab, pid = &blk.p, &blk.a, blk.slab[:0], &blk.from
		fr.Body = &blk.w
	}
	if hasFrom {
		if pid == nil {
			pid = &Pid{}
		}
		fr.From = pid
		if !d.pid(from, pid) {
			return false
		}
	}
	if hasTo {
		var ok bool
		if fr.To, ok = d.str(to); !ok {
			return false
		}
	}
	switch num {
	case 3:
		return d.call(body, fr.Body.(*Frame_Call).Call)
	case 4:
		return d.reply(body, fr.Body.(*Frame_Reply).Reply)
	case 5:
		return d.payload(body, fr.Body.(*Frame_Cast).Cast)
	case 6:
		return d.payload(body, fr.Body.(*Frame_Info).Info)
	}
	return true
}

func (d *decoder) pid(b []byte, p *Pid) bool {
	for len(b) > 0 {
		f, rest, ok := next(b)
		if !ok {
			return false
		}
		b = rest
		switch f.num {
		case 1:
			p.Address, ok = d.str(f)
		case 2:
			p.Id, ok = d.str(f)
		default:
			return false
		}
		if !ok {
			return false
		}
	}
	return true
}

func (d *decoder) call(b []byte, c *Call) bool {
	var seen uint32
	for len(b) > 0 {
		f, rest, ok := next(b)
		if !ok {
			return false
		}
		b = rest
		switch f.num {
		case 1:
			c.Ref, ok = f.v, f.typ == protowire.VarintType
		case 2:
			c.Payload, ok = d.any(f, &seen)
		case 3:
			c.ReplyAddress, ok = d.str(f)
		default:
			return false
		}
		if !ok {
			return false
		}
	}
	return true
}

func (d *decoder) reply(b []byte, r *Reply) bool {
	var seen uint32
	for len(b) > 0 {
		f, rest, ok := next(b)
		if !ok {
			return false
		}
		b = rest
		switch f.num {
		case 1:
			r.Ref, ok = f.v, f.typ == protowire.VarintType
		case 2:
			r.Payload, ok = d.any(f, &seen)
		case 3:
			var m []byte
			if m, ok = f.msg(&seen); ok {
				r.Error = &Error{}
				ok = d.error(m, r.Error)
			}
		default:
			return false
		}
		if !ok {
			return false
		}
	}
	return true
}

func (d *decoder) error(b []byte, e *Error) bool {
	for len(b) > 0 {
		f, rest, ok := next(b)
		if !ok {
			return false
		}
		b = rest
		switch f.num {
		case 1:
			e.Code, ok = Code(int32(f.v)), f.typ == protowire.VarintType
		case 2:
			e.Text, ok = d.str(f)
		default:
			return false
		}
		if !ok {
			return false
		}
	}
	return true
}

func (d *decoder) payload(b []byte, p *Payload) bool {
	var seen uint32
	for len(b) > 0 {
		f, rest, ok := next(b)
		if !ok || f.num != 1 {
			return false
		}
		b = rest
		if p.Payload, ok = d.any(f, &seen); !ok {
			return false
		}
	}
	return true
}

// any is f as an Any field seen for the first time; its value is copied
// out of the input.
func (d *decoder) any(f field, seen *uint32) (*anypb.Any, bool) {
	b, ok := f.msg(seen)
	if !ok {
		return nil, false
	}
	a := d.spare
	if a == nil {
		a = &anypb.Any{}
	}
	d.spare = nil
	for len(b) > 0 {
		f, rest, ok := next(b)
		if !ok {
			return a, false
		}
		b = rest
		switch f.num {
		case 1:
			a.TypeUrl, ok = d.str(f)
		case 2:
			a.Value, ok = d.value(f.b), f.typ == protowire.BytesType
		default:
			return a, false
		}
		if !ok {
			return a, false
		}
	}
	return a, true
}

func (d *decoder) envelope(b []byte, e *Envelope) bool {
	var seen uint32
	for len(b) > 0 {
		f, rest, ok := next(b)
		if !ok {
			return false
		}
		b = rest
		varint := f.typ == protowire.VarintType
		switch f.num {
		case 1:
			e.Exchange, ok = d.str(f)
		case 2:
			e.RequestTag, ok = d.str(f)
		case 3:
			e.RequestId, ok = f.v, varint
		case 4:
			e.ReplyAddress, ok = d.str(f)
		case 5:
			e.DeadlineUnixNano, ok = int64(f.v), varint
		case 6:
			e.ServiceTag, ok = d.str(f)
		case 7:
			e.RoutingKey, ok = d.str(f)
		case 8:
			e.IdempotencyKey, ok = d.str(f)
		case 9:
			e.Payload, ok = d.any(f, &seen)
		case 10:
			e.Hops, ok = uint32(f.v), varint
		case 11:
			e.WantAll, ok = f.v != 0, varint
		case 12:
			e.ConnectionTag, ok = d.str(f)
		case 13:
			ok = d.header(f, &e.Headers)
		case 14:
			e.StartByNs, ok = int64(f.v), varint
		case 15:
			e.Attempt, ok = f.v, varint
		default:
			return false
		}
		if !ok {
			return false
		}
	}
	return true
}
