package exchange

import (
	"fmt"
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
	hops    int
}

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
func (r *Request) ForwardTo(n *actor.Node, pid *actor.PID) error {
	var msg any = r
	if pid.Address != n.Address() {
		env, err := r.envelope()
		if err != nil {
			return err
		}
		msg = env
	}
	return n.Forward(pid, msg, r.replyTo)
}

func (r *Request) envelope() (*wire.Envelope, error) {
	m, ok := r.Msg.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("%w: %w: %T", ErrBadRequest, actor.ErrNotSerializable, r.Msg)
	}
	payload, err := anypb.New(m)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	env := &wire.Envelope{
		Exchange:       r.Exchange,
		RequestTag:     r.Tag,
		RequestId:      r.replyTo.Ref(),
		ReplyAddress:   r.replyTo.Address(),
		ServiceTag:     r.ServiceTag,
		RoutingKey:     r.RoutingKey,
		IdempotencyKey: r.IdempotencyKey,
		Payload:        payload,
		Hops:           uint32(r.hops),
		WantAll:        r.wantAll,
		ConnectionTag:  r.ConnTag,
		Headers:        r.Headers,
	}
	if !r.Deadline.IsZero() {
		env.DeadlineUnixNano = r.Deadline.UnixNano()
	}
	return env, nil
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
		hops:           int(env.GetHops()),
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
