package pubsub

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/exchange/topic"
	"github.com/switchboard-go/switchboard/internal/pubsubpb"
	"github.com/switchboard-go/switchboard/supervisor"
)

// Spec describes a publish-subscribe exchange: messages published
// with a routing key reach every subscriber whose pattern matches the key,
// with the semantics of AMQP's topic exchange (see package topic).
type Spec struct {
	// Name is the exchange's name (required).
	Name string
	// Upstream, if its Name is set, makes this exchange a proxy of the
	// pub-sub exchange there: local subscribers subscribe to the proxy,
	// which subscribes upstream once per distinct pattern and fans each
	// message out locally, so a message crosses the network once per
	// proxy, not once per subscriber. Messages published to a proxy go
	// upstream.
	Upstream exchange.Address
	// Resync is how often a proxy checks that its upstream still holds its
	// subscriptions (one message with their digest; its patterns again
	// only if the upstream's differ): the longest its deliveries stay lost
	// when its upstream dropped it without the proxy seeing its upstream
	// go. Default ResyncInterval; negative, never.
	Resync time.Duration
	// MaxPayload bounds a published payload that crosses nodes; default
	// exchange.DefaultMaxPayload.
	MaxPayload int

	// Backpressure (docs/pubsub.md): the bounds that keep a fast
	// producer from filling memory. Both default to 10,000 messages
	// (DefaultMaxBacklog, DefaultMaxInbox); Unlimited removes a bound.

	// MaxBacklog bounds the messages waiting for one subscriber: in its
	// mailbox when it is on this node, in this node's queue for its node
	// otherwise (there the queue's byte bound, actor.Limits, is what
	// counts). Overflow says what happens to a message for a subscriber
	// at its bound.
	MaxBacklog int
	// Overflow is the policy for a subscriber at MaxBacklog:
	// OverflowBlock (the default, exchange.OverflowDefault: the exchange
	// waits for room up to BlockTimeout, taking no publish meanwhile, so
	// that its inbox fills and publishers wait; it goes on once the
	// subscriber has taken half its bound), exchange.OverflowReject (it
	// misses the message, counted in Stats.Overflowed), OverflowDropOldest
	// (the exchange holds up to MaxBacklog more messages for the
	// subscriber and drops the oldest of them, counted in Stats.Dropped).
	Overflow exchange.Overflow
	// BlockTimeout bounds one wait under OverflowBlock; after it the
	// message is rejected for that subscriber. Default DefaultBlockTimeout.
	BlockTimeout time.Duration
	// MaxInbox bounds the publishes waiting in the exchange's own
	// mailbox (actor.WithMailboxLimit): Publish on this node then waits
	// for room until its context ends (ErrOverloaded), and a publish from
	// another node is dropped, counted in that node's
	// actor.Stats.MailboxFull.
	MaxInbox int
}

// Defaults of the backpressure bounds.
const (
	DefaultMaxBacklog   = 10_000
	DefaultMaxInbox     = 10_000
	DefaultBlockTimeout = time.Second
	// Unlimited, as MaxBacklog or MaxInbox, removes the bound.
	Unlimited = -1
)

// Validate checks the spec.
func (s Spec) Validate() error {
	if s.Name == "" {
		return fmt.Errorf("%w: no name", exchange.ErrInvalidSpec)
	}
	if s.Upstream.Name == s.Name && s.Upstream.Node == "" {
		return fmt.Errorf("%w: %q is its own upstream", exchange.ErrInvalidSpec, s.Name)
	}
	if s.MaxPayload < 0 || s.BlockTimeout < 0 {
		return fmt.Errorf("%w: negative limit", exchange.ErrInvalidSpec)
	}
	if s.MaxBacklog < Unlimited || s.MaxInbox < Unlimited {
		return fmt.Errorf("%w: MaxBacklog and MaxInbox are positive, 0 (default) or Unlimited", exchange.ErrInvalidSpec)
	}
	return s.Overflow.Validate()
}

// Start starts a pub-sub exchange (or proxy) on n, registered under
// RegisteredName(spec.Name) and published in the cluster's directory.
func Start(ctx context.Context, n *actor.Node, spec Spec) (*actor.PID, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	ps := newPubSub(spec)
	return n.Spawn(ctx, ps, actor.WithName(exchange.RegisteredName(spec.Name)), actor.WithMailboxLimit(ps.spec.MaxInbox))
}

// ChildSpec is the supervisor child spec of a pub-sub exchange.
func ChildSpec(spec Spec) supervisor.ChildSpec {
	return supervisor.ChildSpec{
		ID: "exchange:" + spec.Name,
		Start: func(ctx context.Context, sup *actor.Process, _ any) (*actor.PID, error) {
			if err := spec.Validate(); err != nil {
				return nil, err
			}
			ps := newPubSub(spec)
			return sup.SpawnLink(ctx, ps, actor.WithName(exchange.RegisteredName(spec.Name)), actor.WithMailboxLimit(ps.spec.MaxInbox))
		},
	}
}

// Message is what a subscriber receives in HandleInfo for each published
// message: from an exchange on its own node as this struct; from another
// node in an encoded form, which AsMessage turns into one. The subscribers
// on one node with the same tag get the same *Message for a publish (and
// all of them the same Value): it is read-only.
type Message struct {
	Exchange string // the exchange that delivered it (a proxy's name, for its subscribers)
	Key      string // the routing key it was published with
	Tag      string // the subscription's tag
	Value    any    // the payload
}

// AsMessage returns msg as a published message if it is one (a *Message,
// or a delivery from another node, decoded).
func AsMessage(msg any) (*Message, bool, error) {
	switch m := msg.(type) {
	case *Message:
		return m, true, nil
	case *pubsubpb.Delivery:
		v, err := m.GetPayload().UnmarshalNew()
		if err != nil {
			return nil, true, fmt.Errorf("%w: %w", exchange.ErrBadRequest, err)
		}
		return &Message{Exchange: m.GetExchange(), Key: m.GetKey(), Tag: m.GetTag(), Value: v}, true, nil
	}
	return nil, false, nil
}

// PublishTo sends a message with routing key key to the pub-sub exchange
// pid from node n: unencoded within the node, encoded for another node
// (msg must then be a protobuf message, of at most maxPayload bytes; 0
// means exchange.DefaultMaxPayload). It returns once the message is on its way;
// a key that is not valid is topic.ErrInvalidKey and nothing is sent.
func PublishTo(n *actor.Node, pid *actor.PID, key string, msg any, maxPayload int) error {
	if err := topic.CheckKey(key); err != nil {
		return err
	}
	return publish(n, nil, pid, key, msg, 0, maxPayload)
}

// PublishToLocal is PublishTo to an exchange of this node through a
// handle to its process (actor.Node.Local), which saves the look-up of the
// process for each publish.
func PublishToLocal(ex actor.Local, key string, msg any) error {
	if err := topic.CheckKey(key); err != nil {
		return err
	}
	return ex.Send(nil, &pubsubpb.PublishLocal{Key: key, Value: msg})
}

// publish sends from p if set (a process), else from the node.
func publish(n *actor.Node, p *actor.Process, pid *actor.PID, key string, msg any, hops uint32, maxPayload int) error {
	var out any = &pubsubpb.PublishLocal{Key: key, Value: msg, Hops: hops}
	if pid.Address != n.Address() {
		payload, err := encodePayload(msg, maxPayload)
		if err != nil {
			return err
		}
		out = &pubsubpb.Publish{Key: key, Payload: payload, Hops: hops}
	}
	if p != nil {
		return p.Send(pid, out)
	}
	return n.Send(pid, out)
}

func encodePayload(msg any, maxPayload int) (*anypb.Any, error) {
	m, ok := msg.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("%w: %T", actor.ErrNotSerializable, msg)
	}
	if maxPayload <= 0 {
		maxPayload = exchange.DefaultMaxPayload
	}
	if size := proto.Size(m); size > maxPayload {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", exchange.ErrTooLarge, size, maxPayload)
	}
	return anypb.New(m)
}
