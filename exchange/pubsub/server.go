package pubsub

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/anypb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/exchange/topic"
	"github.com/switchboard-go/switchboard/internal/directory"
	"github.com/switchboard-go/switchboard/internal/inspectpb"
	"github.com/switchboard-go/switchboard/internal/pubsubpb"
)

// Stats are a pub-sub exchange's counters, from Inspect.
type Stats struct {
	Subscriptions int    // (subscriber, pattern, tag) triples
	Subscribers   int    // distinct subscriber processes
	Published     uint64 // messages published here (or, for a proxy, received from upstream)
	Delivered     uint64 // deliveries to subscribers
	Remote        uint64 // of those, deliveries that crossed to another node
	Unmatched     uint64 // messages no subscription matched (not an error)
	Rejected      uint64 // publishes refused: bad key, undecodable payload, loops
	Upstream      int    // patterns a proxy holds upstream

	// Backpressure (see Spec.MaxBacklog): deliveries not made because a
	// subscriber was at its bound, by policy.
	Overflowed uint64 // rejected: the subscriber missed the message (OverflowReject, or OverflowBlock after BlockTimeout)
	Blocked    uint64 // waits of the exchange for a subscriber's room (OverflowBlock)
	Dropped    uint64 // held messages dropped, oldest first (OverflowDropOldest)
	Held       int    // gauge: messages held now for subscribers at their bound (OverflowDropOldest)

	// Restored counts the subscriptions of proxies on other nodes that a
	// proxy's periodic re-sync found missing here and added again: the
	// exchange had dropped a proxy (it saw the proxy's node go down) while
	// the proxy saw no down of its upstream. Not 0 means a gap in the
	// proxy's deliveries of at most ResyncInterval.
	Restored uint64
}

// subKey is one subscription's subscriber and tag, the value in the trie:
// a subscriber gets a message once per tag however many of its patterns
// match.
type subKey struct {
	sub *subscriber
	tag string
}

type subscriber struct {
	pid     *actor.PID
	ref     actor.Ref
	subs    map[[2]string]struct{} // (pattern, tag)
	held    held                   // messages waiting for room (OverflowDropOldest)
	holding bool                   // in pubsub.holding
	stuck   bool                   // waited out a BlockTimeout and has had no room since
	local   bool                   // on this node: its mailbox is read
	h       actor.Local            // for one on this node, its process: sends skip the look-up by id
	room    int                    // messages it can take before its mailbox is read again
	pending []string               // the tags the publish being routed matched (fanout.go)
}

// pubsub is the process of a pub-sub exchange or proxy.
type pubsub struct {
	actor.BaseServer
	spec  Spec
	p     *actor.Process
	trie  topic.Trie[subKey]
	subs  map[string]*subscriber // by pidKey
	stats Stats

	// A proxy's upstream subscriptions: pattern -> local subscriptions.
	upPatterns map[string]int
	upstream   *actor.PID
	upRef      actor.Ref
	backoff    time.Duration

	fan fan // the deliveries of the publish being routed, by subscriber

	holding   []*subscriber // subscribers with held messages
	flushing  bool          // a flushHeld is on its way
	stopFlush func() bool   // cancels it
}

type (
	resubscribe struct{}
	flushHeld   struct{} // hand held messages to subscribers with room
)

const maxPublishHops = 8

func newPubSub(spec Spec) *pubsub {
	if spec.MaxPayload == 0 {
		spec.MaxPayload = exchange.DefaultMaxPayload
	}
	spec.defaults()
	return &pubsub{spec: spec, subs: map[string]*subscriber{}, upPatterns: map[string]int{}}
}

func (s *pubsub) proxy() bool { return s.spec.Upstream.Name != "" }

func (s *pubsub) Init(p *actor.Process) error {
	s.p = p
	if s.proxy() {
		s.connectUpstream()
		s.scheduleResync()
	}
	directory.Publish(p, exchange.RegisteredName(s.spec.Name), s.spec.Name)
	return nil
}

func (s *pubsub) Terminate(p *actor.Process, _ error) {
	if s.stopFlush != nil {
		s.stopFlush()
	}
	directory.Withdraw(p, exchange.RegisteredName(s.spec.Name))
}

func (s *pubsub) HandleCall(p *actor.Process, msg any) (any, error) {
	switch m := msg.(type) {
	case *pubsubpb.Subscribe:
		changed, err := s.subscribe(m.GetSubscriber(), m.GetPattern(), m.GetTag())
		return &pubsubpb.Subscribed{Changed: changed}, err
	case *pubsubpb.Unsubscribe:
		return &pubsubpb.Subscribed{Changed: s.unsubscribe(m.GetSubscriber(), m.GetPattern(), m.GetTag())}, nil
	case *inspectpb.PubSubInspect:
		return s.describe(), nil
	case *inspectpb.ExchangeInspect: // another kind's inspection: not a publish
		return nil, actor.ErrUnhandled
	}
	// A publish sent as a call is answered once routed.
	return nil, s.route(msg)
}

func (s *pubsub) HandleCast(p *actor.Process, msg any) {
	switch m := msg.(type) {
	case *pubsubpb.Subscribe: // a proxy's re-sync
		if changed, err := s.subscribe(m.GetSubscriber(), m.GetPattern(), m.GetTag()); err == nil && changed {
			s.stats.Restored++
			p.Node().Logger().Warn("a proxy's subscription was missing; its re-sync restored it",
				"exchange", s.spec.Name, "proxy", actor.FormatPID(m.GetSubscriber()), "pattern", m.GetPattern())
		}
	case *pubsubpb.Resync:
		s.compareResync(m)
	case *pubsubpb.ResyncWanted:
		s.resyncUpstream()
	default:
		_ = s.route(msg)
	}
}

func (s *pubsub) HandleInfo(p *actor.Process, msg any) {
	switch m := msg.(type) {
	case actor.Down:
		if s.proxy() && m.Ref == s.upRef {
			s.upstreamLost()
			return
		}
		if sub := s.subs[pidKey(m.PID)]; sub != nil && sub.ref == m.Ref {
			s.drop(sub)
		}
	case resubscribe:
		s.connectUpstream()
	case resync:
		s.checkUpstream()
		s.scheduleResync()
	case flushHeld:
		s.flushing = false
		s.flush()
	default:
		_ = s.route(msg)
	}
}

// route handles a publish (local or from another node) and, at a proxy, a
// delivery from upstream.
func (s *pubsub) route(msg any) error {
	var key string
	var hops uint32
	var value any
	var payload *anypb.Any
	switch m := msg.(type) {
	case *pubsubpb.PublishLocal:
		key, hops, value = m.Key, m.Hops, m.Value
	case *pubsubpb.Publish:
		key, hops, payload = m.GetKey(), m.GetHops(), m.GetPayload()
	case *Message: // from an upstream on this node, at a proxy
		if !s.proxy() {
			return s.reject(fmt.Errorf("%w: a delivery at an exchange that is no proxy", exchange.ErrBadRequest))
		}
		return s.deliver(m.Key, m.Value, nil)
	case *pubsubpb.Delivery: // from upstream on another node, at a proxy
		if !s.proxy() {
			return s.reject(fmt.Errorf("%w: a delivery at an exchange that is no proxy", exchange.ErrBadRequest))
		}
		return s.deliver(m.GetKey(), nil, m.GetPayload())
	default:
		return s.reject(fmt.Errorf("%w: %T", exchange.ErrBadRequest, msg))
	}
	if !s.proxy() { // deliver checks the key as it splits it
		return s.deliver(key, value, payload)
	}
	if err := topic.CheckKey(key); err != nil {
		return s.reject(err)
	}
	// A publish at a proxy goes upstream.
	if hops >= maxPublishHops {
		return s.reject(fmt.Errorf("%w: %d proxies", exchange.ErrRedirectLoop, hops))
	}
	if s.upstream == nil {
		return s.reject(fmt.Errorf("%w: upstream %q", exchange.ErrExchangeNotFound, s.spec.Upstream.Name))
	}
	if value == nil && payload != nil {
		v, err := payload.UnmarshalNew()
		if err != nil {
			return s.reject(fmt.Errorf("%w: %w", exchange.ErrBadRequest, err))
		}
		value = v
	}
	return publish(s.p.Node(), s.p, s.upstream, key, value, hops+1, s.spec.MaxPayload)
}

func (s *pubsub) reject(err error) error {
	s.stats.Rejected++
	return err
}

// deliver sends the message to every matching subscriber: a *Message to
// those on this node (the value decoded at most once), a *Delivery to
// those on others (the payload encoded at most once). The matches are
// grouped by subscriber first (fanout.go), so that each subscriber gets
// its deliveries of this publish back to back. A message with an invalid
// key is rejected, not counted as published.
func (s *pubsub) deliver(key string, value any, payload *anypb.Any) error {
	here := s.p.Node().Address()
	var bad error
	err := s.trie.Match(key, s.collect) // an invalid key: topic.ErrInvalidKey, and no match
	defer s.fan.reset()
	if err != nil {
		return s.reject(err)
	}
	s.stats.Published++
	if len(s.fan.subs) == 0 {
		s.stats.Unmatched++
		return nil
	}
	for _, sub := range s.fan.subs {
		if sub.pid.Address == here {
			if value == nil && payload != nil && bad == nil {
				value, bad = payload.UnmarshalNew()
			}
			if bad != nil {
				continue
			}
			for _, tag := range sub.pending {
				s.send(sub, s.fan.message(s.spec.Name, key, tag, value))
			}
			continue
		}
		if payload == nil && bad == nil {
			payload, bad = encodePayload(value, s.spec.MaxPayload)
		}
		if bad != nil {
			continue
		}
		for _, tag := range sub.pending {
			s.send(sub, &pubsubpb.Delivery{Exchange: s.spec.Name, Key: key, Tag: tag, Payload: payload})
		}
	}
	if bad != nil {
		return s.reject(fmt.Errorf("%w: %w", exchange.ErrBadRequest, bad))
	}
	return nil
}

func (s *pubsub) subscribe(pid *actor.PID, pattern, tag string) (bool, error) {
	if pid == nil || pid.Id == "" {
		return false, fmt.Errorf("%w: no subscriber", exchange.ErrBadRequest)
	}
	if _, err := topic.ParsePattern(pattern); err != nil {
		return false, err
	}
	key := pidKey(pid)
	sub := s.subs[key]
	if sub == nil {
		sub = &subscriber{pid: pid, subs: map[[2]string]struct{}{}, local: pid.Address == s.p.Node().Address()}
		if sub.local {
			sub.h, _ = s.p.Node().Local(pid) // none for a NamedPID or a process gone: sent by PID
		}
	}
	added, err := s.trie.Add(pattern, subKey{sub: sub, tag: tag})
	if err != nil || !added {
		return false, err
	}
	if s.subs[key] == nil {
		s.subs[key] = sub
		sub.ref = s.p.Monitor(pid)
	}
	sub.subs[[2]string{pattern, tag}] = struct{}{}
	if s.proxy() {
		if s.upPatterns[pattern]++; s.upPatterns[pattern] == 1 && s.upstream != nil {
			if err := s.subscribeUpstream(pattern); err != nil {
				s.p.Node().Logger().Warn("proxy could not subscribe upstream; retrying", "exchange", s.spec.Name, "err", err)
				s.upstreamLost()
			}
		}
	}
	return true, nil
}

func (s *pubsub) unsubscribe(pid *actor.PID, pattern, tag string) bool {
	if pid == nil {
		return false
	}
	sub := s.subs[pidKey(pid)]
	if sub == nil || !s.trie.Remove(pattern, subKey{sub: sub, tag: tag}) {
		return false
	}
	delete(sub.subs, [2]string{pattern, tag})
	if len(sub.subs) == 0 {
		s.p.Demonitor(sub.ref)
		delete(s.subs, pidKey(pid))
		s.release(sub)
	}
	s.releaseUpstream(pattern)
	return true
}

// drop removes every subscription of a subscriber that exited.
func (s *pubsub) drop(sub *subscriber) {
	for pt := range sub.subs {
		s.trie.Remove(pt[0], subKey{sub: sub, tag: pt[1]})
		s.releaseUpstream(pt[0])
	}
	delete(s.subs, pidKey(sub.pid))
	s.release(sub)
}

// releaseUpstream unsubscribes a proxy upstream from a pattern no local
// subscription holds any more.
func (s *pubsub) releaseUpstream(pattern string) {
	if !s.proxy() {
		return
	}
	if s.upPatterns[pattern]--; s.upPatterns[pattern] > 0 {
		return
	}
	delete(s.upPatterns, pattern)
	if s.upstream != nil {
		_ = s.p.Cast(s.upstream, &pubsubpb.Unsubscribe{Subscriber: s.p.Self(), Pattern: pattern})
	}
}

// connectUpstream finds the upstream exchange, monitors it and subscribes
// every pattern the proxy holds; on failure it retries with backoff.
func (s *pubsub) connectUpstream() {
	n := s.p.Node()
	ctx, cancel := context.WithTimeout(context.Background(), resolveTimeout)
	defer cancel()
	pid, err := s.spec.Upstream.Resolve(ctx, n)
	if err != nil {
		s.upstreamLost()
		return
	}
	s.upstream = pid
	s.upRef = s.p.Monitor(pid)
	for pattern := range s.upPatterns {
		if err := s.subscribeUpstream(pattern); err != nil {
			s.upstreamLost()
			return
		}
	}
	s.backoff = 0
}

func (s *pubsub) subscribeUpstream(pattern string) error {
	ctx, cancel := context.WithTimeout(context.Background(), resolveTimeout)
	defer cancel()
	// One subscription per pattern, all with the empty tag: upstream sends
	// the proxy each message once.
	_, err := s.p.Call(ctx, s.upstream, &pubsubpb.Subscribe{Subscriber: s.p.Self(), Pattern: pattern})
	return err
}

// resyncUpstream sends the upstream, once more, a subscription to every
// pattern the proxy holds, as casts: one the upstream has is left as it
// is; one it lost (it dropped the proxy on a node-down the proxy never saw
// as a down of its upstream: a membership verdict, a connection replaced
// while the old one's downs were on their way) is added again and counted
// there (Stats.Restored). A proxy not connected is connecting already.
// It runs when the upstream asks (ResyncWanted, resync.go).
func (s *pubsub) resyncUpstream() {
	if s.upstream == nil {
		return
	}
	for pattern := range s.upPatterns {
		_ = s.p.Cast(s.upstream, &pubsubpb.Subscribe{Subscriber: s.p.Self(), Pattern: pattern})
	}
}

// upstreamLost forgets the upstream and tries again after a backoff.
func (s *pubsub) upstreamLost() {
	if s.upstream != nil {
		s.p.Demonitor(s.upRef)
		s.upstream = nil
	}
	s.backoff = min(max(2*s.backoff, minBackoff), time.Second)
	s.p.SendAfter(s.backoff, resubscribe{})
}
