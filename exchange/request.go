package exchange

import (
	"fmt"
	"math"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/internal/wire"
)

// Request is a request on its way from a client through an exchange to
// controllers. In one node it travels as this struct, unencoded; between
// nodes as a wire.Envelope. Controllers get it in HandleCall and answer by
// returning, straight to the client.
type Request struct {
	Exchange       string    // the exchange's name
	Tag            string    // the client's label for the reply (request tag)
	ServiceTag     string    // only controllers of this group, if set
	RoutingKey     string    // the sticky signature, if set
	IdempotencyKey string    // runs once within the exchange's window (see Idempotency)
	ConnTag        string    // set by the exchange: the controller connection it came through
	Deadline       time.Time // after it, nobody waits for the reply
	Msg            any       // the payload; a protobuf message when it crosses nodes
	// Headers travel with the request to the controllers, for middleware
	// (a trace context, say); nil if none. Middleware that adds one on the
	// exchange sets it in a copy (SetHeader), as the map may be the
	// client's.
	Headers map[string]string

	replyTo actor.ReplyTo
	wantAll bool
	hops    int32 // beside wantAll: the struct stays in its size class (208 bytes) with the two below
	// Of a keyed run (keyed.go): the key's attempt, and, to a controller on
	// another node, the exchange's node Clock after which it must not start.
	attempt uint64
	startBy time.Duration
}

// Attempt is the attempt of a keyed request's run, as the exchange sent
// it to the controller: it grows with every run of the key, here or on
// another controller (the exchange's start time in nanoseconds plus its
// count of runs, so also across restarts of the exchange while clocks do
// not step back), and is 0 for an unkeyed request. Pass it to a store as
// a fencing token: a store that keeps the highest attempt it saw for a
// key and refuses lower ones refuses a run that resumed after the key ran
// again elsewhere. patterns.Attempt reads it from a handler's context.
func (r *Request) Attempt() uint64 { return r.attempt }

// NewRequest is a request for exchange, answered to rt (a Pending's or
// ExpectReply's ReplyTo). wantAll asks for every reply, after a count.
func NewRequest(exchange string, msg any, rt actor.ReplyTo, wantAll bool) *Request {
	return &Request{Exchange: exchange, Msg: msg, replyTo: rt, wantAll: wantAll}
}

// ReplyTo is where the reply goes.
func (r *Request) ReplyTo() actor.ReplyTo { return r.replyTo }

// Expired reports whether the deadline has passed.
func (r *Request) Expired(now time.Time) bool { return !r.Deadline.IsZero() && now.After(r.Deadline) }

// ForwardTo sends r from node n to pid (an exchange or a controller) as a
// call answered to r's ReplyTo: r itself to a local process, its protobuf
// envelope to a remote one. If pid's node goes down before pid answers, n
// answers r's ReplyTo with actor.ErrNodeDown (see actor.Node.Forward).
func (r *Request) ForwardTo(n *actor.Node, pid *actor.PID) error { return r.forward(n, pid, r.replyTo) }

// forward is ForwardTo with the reply going to rt, r's ReplyTo as the
// node's direct-call hook got it (see routeDirect).
func (r *Request) forward(n *actor.Node, pid *actor.PID, rt actor.ReplyTo) error {
	if pid.Address == n.Address() {
		return n.Forward(pid, r, rt)
	}
	o := envOuts.Get().(*envOut)
	defer o.put()
	env, err := r.envelope(o)
	if err != nil {
		return err
	}
	return n.Forward(pid, env, rt) // encoded before it returns: o is free again
}

// envOut is an envelope with its payload's Any and buffer, reused: an
// envelope to another node is encoded before Forward returns.
type envOut struct {
	e   wire.Envelope
	a   anypb.Any
	buf []byte
}

var envOuts = sync.Pool{New: func() any { return new(envOut) }}

// keepEnvBuf is the largest payload buffer an envOut keeps.
const keepEnvBuf = 1 << 20

func (o *envOut) put() {
	o.e = wire.Envelope{}
	o.a.TypeUrl, o.a.Value = "", nil
	if cap(o.buf) > keepEnvBuf {
		o.buf = nil
	}
	envOuts.Put(o)
}

// envelope is r as the envelope it crosses nodes in, built in o.
func (r *Request) envelope(o *envOut) (*wire.Envelope, error) {
	m, ok := r.Msg.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("%w: %w: %T", ErrBadRequest, actor.ErrNotSerializable, r.Msg)
	}
	b, err := proto.MarshalOptions{}.MarshalAppend(o.buf[:0], m)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	o.buf = b
	o.a.TypeUrl, o.a.Value = wire.TypeURL(m), b
	o.e = wire.Envelope{
		Exchange:       r.Exchange,
		RequestTag:     r.Tag,
		RequestId:      r.replyTo.Ref(),
		ReplyAddress:   r.replyTo.Address(),
		ServiceTag:     r.ServiceTag,
		RoutingKey:     r.RoutingKey,
		IdempotencyKey: r.IdempotencyKey,
		Payload:        &o.a,
		Hops:           uint32(r.hops),
		WantAll:        r.wantAll,
		ConnectionTag:  r.ConnTag,
		Headers:        r.Headers,
		StartByNs:      int64(r.startBy),
		Attempt:        r.attempt,
	}
	if !r.Deadline.IsZero() {
		o.e.DeadlineUnixNano = r.Deadline.UnixNano()
	}
	return &o.e, nil
}

// AsRequest returns the request in msg, as a controller or an exchange
// receives it in HandleCall: a *Request from its own node or a
// *wire.Envelope from another, decoded. ok is false for other messages. A
// payload larger than maxPayload (0: DefaultMaxPayload) or of an unknown
// type is an error wrapping ErrTooLarge or ErrBadRequest.
func AsRequest(msg any, maxPayload int) (req *Request, ok bool, err error) {
	switch m := msg.(type) {
	case *Request:
		return m, true, nil
	case *wire.Envelope:
		r, err := fromEnvelope(m, maxPayload)
		return r, true, err
	}
	return nil, false, nil
}

func fromEnvelope(env *wire.Envelope, maxPayload int) (*Request, error) {
	if maxPayload <= 0 {
		maxPayload = DefaultMaxPayload
	}
	r := &Request{
		Exchange:       env.GetExchange(),
		Tag:            env.GetRequestTag(),
		ServiceTag:     env.GetServiceTag(),
		RoutingKey:     env.GetRoutingKey(),
		IdempotencyKey: env.GetIdempotencyKey(),
		ConnTag:        env.GetConnectionTag(),
		Headers:        env.GetHeaders(),
		replyTo:        actor.NewReplyTo(env.GetReplyAddress(), env.GetRequestId()),
		wantAll:        env.GetWantAll(),
		hops:           int32(min(env.GetHops(), math.MaxInt32)),
		attempt:        env.GetAttempt(),
		startBy:        time.Duration(env.GetStartByNs()),
	}
	if d := env.GetDeadlineUnixNano(); d != 0 {
		r.Deadline = time.Unix(0, d)
	}
	p := env.GetPayload()
	if p == nil {
		return r, fmt.Errorf("%w: no payload", ErrBadRequest)
	}
	if len(p.GetValue()) > maxPayload {
		return r, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(p.GetValue()), maxPayload)
	}
	m, err := p.UnmarshalNew()
	if err != nil {
		return r, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	r.Msg = m
	return r, nil
}

// Routed is the first reply a client that asked for every reply gets: how
// many controllers the request went to.
func routed(count int) *wire.Routed { return &wire.Routed{Count: uint32(count)} }

// RoutedCount reports whether a reply is the exchange's answer to a
// want-all request: the count of controllers it went to, or the
// exchange's refusal (an error that matches this package's sentinels with
// errors.Is).
func RoutedCount(reply any) (count int, refusal error, ok bool) {
	r, ok := reply.(*wire.Routed)
	if !ok {
		return 0, nil, false
	}
	if r.GetError() != "" {
		return 0, &actor.RemoteError{Text: r.GetError()}, true
	}
	return int(r.GetCount()), nil, true
}

// NewRequestFrom returns a copy of r to be answered to rt; wantAll asks for
// every reply, after their count.
func NewRequestFrom(r *Request, rt actor.ReplyTo, wantAll bool) *Request {
	c := *r
	c.replyTo, c.wantAll = rt, wantAll
	return &c
}
