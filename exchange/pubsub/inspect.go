package pubsub

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/internal/inspectpb"
)

// Info describes a pub-sub exchange or proxy, from Describe.
type Info struct {
	Name  string
	Stats Stats
	// Subscriptions are its subscriptions, by subscriber and pattern.
	Subscriptions []Subscription
	// Upstream is a proxy's upstream exchange (zero for an exchange that
	// is not a proxy), UpstreamPID the process it is connected to (nil
	// while it is not), UpstreamPatterns the patterns it holds there.
	Upstream         exchange.Address
	UpstreamPID      *actor.PID
	UpstreamPatterns []string
}

// Subscription is one subscription: a subscriber, its pattern and tag.
type Subscription struct {
	Subscriber *actor.PID
	Pattern    string
	Tag        string
}

// Inspect returns the counters of the pub-sub exchange at a, from any
// node; see Describe.
func Inspect(ctx context.Context, n *actor.Node, a exchange.Address) (Stats, error) {
	info, err := Describe(ctx, n, a)
	return info.Stats, err
}

// Describe returns what the pub-sub exchange (or proxy) at a looks like
// now, from any node: its counters, subscriptions and upstream. An
// exchange that is not there (or has gone) is exchange.ErrExchangeNotFound,
// one whose node is gone actor.ErrNodeDown, a process of that name that is
// another kind of exchange exchange.ErrWrongKind.
func Describe(ctx context.Context, n *actor.Node, a exchange.Address) (Info, error) {
	pid, err := a.Resolve(ctx, n)
	if err != nil {
		return Info{}, err
	}
	v, err := n.Call(ctx, pid, &inspectpb.PubSubInspect{})
	switch {
	case errors.Is(err, actor.ErrNoProcess):
		return Info{}, fmt.Errorf("%w: %q: %w", exchange.ErrExchangeNotFound, a.Name, err)
	case errors.Is(err, actor.ErrUnhandled):
		return Info{}, fmt.Errorf("%w: %q is not a pub-sub exchange", exchange.ErrWrongKind, a.Name)
	case err != nil:
		return Info{}, err
	}
	m, ok := v.(*inspectpb.PubSubInfo)
	if !ok {
		return Info{}, fmt.Errorf("%w: %q answered %T", exchange.ErrWrongKind, a.Name, v)
	}
	info := Info{Name: m.GetName(), Stats: Stats{
		Subscriptions: int(m.GetSubscriptionCount()), Subscribers: int(m.GetSubscriberCount()),
		Published: m.GetPublished(), Delivered: m.GetDelivered(), Remote: m.GetRemote(),
		Unmatched: m.GetUnmatched(), Rejected: m.GetRejected(), Upstream: len(m.GetUpstreamPatterns()),
		Overflowed: m.GetOverflowed(), Blocked: m.GetBlocked(), Dropped: m.GetDropped(), Held: int(m.GetHeld()),
		Restored: m.GetRestored(),
	}, Upstream: exchange.Address{Name: m.GetUpstream(), Node: m.GetUpstreamNode()},
		UpstreamPID: m.GetUpstreamPid(), UpstreamPatterns: m.GetUpstreamPatterns()}
	for _, s := range m.GetSubscriptions() {
		info.Subscriptions = append(info.Subscriptions, Subscription{Subscriber: s.GetSubscriber(), Pattern: s.GetPattern(), Tag: s.GetTag()})
	}
	return info, nil
}

// describe is the exchange's answer to a PubSubInspect.
func (s *pubsub) describe() *inspectpb.PubSubInfo {
	m := &inspectpb.PubSubInfo{
		Name: s.spec.Name, SubscriptionCount: uint64(s.trie.Len()), SubscriberCount: uint64(len(s.subs)),
		Published: s.stats.Published, Delivered: s.stats.Delivered, Remote: s.stats.Remote,
		Unmatched: s.stats.Unmatched, Rejected: s.stats.Rejected,
		Overflowed: s.stats.Overflowed, Blocked: s.stats.Blocked, Dropped: s.stats.Dropped, Held: uint64(s.heldCount()), Restored: s.stats.Restored,
		Upstream: s.spec.Upstream.Name, UpstreamNode: s.spec.Upstream.Node, UpstreamPid: s.upstream,
	}
	for _, sub := range s.subs {
		for pt := range sub.subs {
			m.Subscriptions = append(m.Subscriptions, &inspectpb.Subscription{Subscriber: sub.pid, Pattern: pt[0], Tag: pt[1]})
		}
	}
	sort.Slice(m.Subscriptions, func(i, j int) bool {
		a, b := m.Subscriptions[i], m.Subscriptions[j]
		if ka, kb := actor.FormatPID(a.Subscriber), actor.FormatPID(b.Subscriber); ka != kb {
			return ka < kb
		}
		if a.Pattern != b.Pattern {
			return a.Pattern < b.Pattern
		}
		return a.Tag < b.Tag
	})
	for pt := range s.upPatterns {
		m.UpstreamPatterns = append(m.UpstreamPatterns, pt)
	}
	sort.Strings(m.UpstreamPatterns)
	return m
}
