package pubsub

import (
	"github.com/switchboard-go/switchboard/internal/pubsubpb"
)

// A proxy's periodic check that its upstream still holds its
// subscriptions: every Spec.Resync the proxy casts one Resync with how many
// patterns it holds upstream and their digest; an upstream whose set for
// the proxy differs casts back ResyncWanted, and the proxy sends its every
// pattern again (resyncUpstream). One message per proxy and interval while
// nothing is lost, however many patterns it holds.

type resync struct{} // the proxy's timer

func (s *pubsub) scheduleResync() {
	if s.spec.Resync > 0 {
		s.p.SendAfter(s.spec.Resync, resync{})
	}
}

// checkUpstream is the proxy's side: it casts its count and digest.
func (s *pubsub) checkUpstream() {
	if s.upstream == nil {
		return // connecting already
	}
	var digest uint64
	for pattern := range s.upPatterns {
		digest ^= patternHash(pattern)
	}
	_ = s.p.Cast(s.upstream, &pubsubpb.Resync{Subscriber: s.p.Self(), Patterns: uint32(len(s.upPatterns)), Digest: digest})
}

// compareResync is the upstream's side: it asks the proxy for its patterns
// if the subscriptions it holds for it (those with the empty tag, a
// proxy's) are not the ones the proxy counts.
func (s *pubsub) compareResync(m *pubsubpb.Resync) {
	proxy := m.GetSubscriber()
	if proxy == nil {
		return
	}
	var n uint32
	var digest uint64
	if sub := s.subs[pidKey(proxy)]; sub != nil {
		for k := range sub.subs {
			if k[1] == "" {
				n++
				digest ^= patternHash(k[0])
			}
		}
	}
	if n != m.GetPatterns() || digest != m.GetDigest() {
		_ = s.p.Cast(proxy, &pubsubpb.ResyncWanted{})
	}
}

// patternHash is the 64-bit FNV-1a hash of a pattern, the same on every
// node.
func patternHash(pattern string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(pattern); i++ {
		h ^= uint64(pattern[i])
		h *= 1099511628211
	}
	return h
}
