package patterns

import (
	"context"
	"errors"
	"fmt"

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
func Publish(ctx context.Context, n *actor.Node, ex exchange.Address, key string, msg any) error {
	target, err := ex.Resolve(ctx, n)
	if err != nil {
		return err
	}
	return pubsub.PublishTo(n, target, key, msg, 0)
}
