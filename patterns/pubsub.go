package patterns

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/exchange/pubsub"
	"github.com/switchboard-go/switchboard/internal/pubsubpb"
)

// Subscribe subscribes the process pid to the pub-sub exchange ex: pid
// gets, in HandleInfo, every message published there with a routing key
// that pattern matches ("*" one word, "#" zero or more; see package
// topic), as a *pubsub.Message labelled with tag (use
// pubsub.AsMessage, which also reads those from other nodes). A
// subscriber that exits is unsubscribed. It returns once the subscription
// is in place; an invalid pattern is topic.ErrInvalidPattern.
func Subscribe(ctx context.Context, n *actor.Node, ex exchange.Address, pattern, tag string, pid *actor.PID) error {
	target, err := ex.Resolve(ctx, n)
	if err != nil {
		return err
	}
	_, err = n.Call(ctx, target, &pubsubpb.Subscribe{Subscriber: pid, Pattern: pattern, Tag: tag})
	return missing(ex, err)
}

// Unsubscribe removes one subscription made by Subscribe; removing one
// that does not exist does nothing.
func Unsubscribe(ctx context.Context, n *actor.Node, ex exchange.Address, pattern, tag string, pid *actor.PID) error {
	target, err := ex.Resolve(ctx, n)
	if err != nil {
		return err
	}
	_, err = n.Call(ctx, target, &pubsubpb.Unsubscribe{Subscriber: pid, Pattern: pattern, Tag: tag})
	return missing(ex, err)
}

// missing turns "no process" from a call to an exchange into
// ErrExchangeNotFound.
func missing(ex exchange.Address, err error) error {
	if errors.Is(err, actor.ErrNoProcess) {
		return fmt.Errorf("%w: %q", exchange.ErrExchangeNotFound, ex.Name)
	}
	return err
}

// Publish sends msg with routing key key to the pub-sub exchange ex, for
// every subscriber whose pattern matches it. It returns once the message
// is on its way (a message no subscription matches is counted by the
// exchange, not an error); an invalid key is topic.ErrInvalidKey. Across
// nodes msg must be a protobuf message. As with any send, a message to an
// exchange that has just gone is lost; Subscribe reports a missing one.
//
// Backpressure: while the exchange's inbox is full (pubsub.Spec.MaxInbox,
// on this node) or this node's queue for the exchange's node is (see
// actor.Limits), Publish waits for room until ctx ends (or, without a
// deadline, for the node's CallTimeout), and then returns an error that
// matches actor.ErrOverloaded: a producer goes at the pace of the
// exchange and its subscribers (see docs/pubsub.md).
func Publish(ctx context.Context, n *actor.Node, ex exchange.Address, key string, msg any) error {
	if ex.Node == "" || ex.Node == n.Address() { // where Resolve looks first
		if h, ok := localExchangeOf(n, ex.Name); ok {
			if err := pubsub.PublishToLocal(h, key, msg); !errors.Is(err, actor.ErrOverloaded) {
				return err
			}
		}
	}
	target, err := ex.Resolve(ctx, n)
	if err != nil {
		return err
	}
	err = pubsub.PublishTo(n, target, key, msg, 0)
	if !errors.Is(err, actor.ErrOverloaded) {
		return err
	}
	return awaitRoom(ctx, n, target, err, func() error { return pubsub.PublishTo(n, target, key, msg, 0) })
}

// awaitRoom retries send, which last failed with overloaded, with a
// backoff until it succeeds or fails otherwise, or until ctx ends (or the
// node's CallTimeout passes, without a deadline): then it returns the last
// ErrOverloaded. For a target on this node it tries again only once the
// target's mailbox has drained to half what it held at the refusal, so
// that a producer ahead of its exchange waits once per half a mailbox, not
// once per message.
func awaitRoom(ctx context.Context, n *actor.Node, target *actor.PID, overloaded error, send func() error) error {
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(n.CallTimeout())
	}
	lowWater := -1
	if b, ok := n.Backlog(target); ok {
		lowWater = b / 2
	}
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for wait := roomFirstWait; ; wait = min(2*wait, roomMaxWait) {
		left := time.Until(deadline)
		if left <= 0 {
			return overloaded
		}
		t.Reset(min(wait, left)) // go1.23 timers: no stale tick after Reset
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (waited for room until: %w)", overloaded, ctx.Err())
		case <-t.C:
		}
		if b, ok := n.Backlog(target); ok && b > lowWater {
			continue
		}
		err := send()
		if !errors.Is(err, actor.ErrOverloaded) {
			return err
		}
		overloaded = err
	}
}

// The waits of a producer for room: short at first (an exchange drains
// its inbox in microseconds), and then no longer than a blink.
const (
	roomFirstWait = 20 * time.Microsecond
	roomMaxWait   = time.Millisecond
)
