package pubsub

// One publish to many subscribers: the trie's matches come in no order,
// a subscriber's tags scattered among everyone's. Delivered in that
// order, each of a subscriber's deliveries would find its mailbox just
// drained and schedule a run of it again (a hand-off to another goroutine,
// often a new one), once per delivery. Grouped by subscriber first, a
// subscriber's deliveries of one publish go back to back, and one run
// takes them all.

// fan holds the matches of the publish being routed, grouped by
// subscriber, and the messages made for it: every subscriber with the
// same tag shares one *Message (they are read-only, and share their Value
// anyway).
type fan struct {
	subs  []*subscriber       // those with pending tags, in the order first matched
	first *Message            // the message of the first tag (most publishes have one)
	msgs  map[string]*Message // those of the other tags, by tag
	last  *Message            // the message made last, the one for most subscribers (the empty tag)
}

// collect is the trie's callback: it adds one match.
func (s *pubsub) collect(k subKey) {
	if len(k.sub.pending) == 0 {
		s.fan.subs = append(s.fan.subs, k.sub)
	}
	k.sub.pending = append(k.sub.pending, k.tag)
}

// message returns the message for tag, made once per publish.
func (f *fan) message(exchange, key, tag string, value any) *Message {
	if f.last != nil && f.last.Tag == tag {
		return f.last
	}
	var m *Message
	switch {
	case f.first == nil:
		m = &Message{Exchange: exchange, Key: key, Tag: tag, Value: value}
		f.first = m
	case f.first.Tag == tag:
		m = f.first
	default:
		if m = f.msgs[tag]; m == nil {
			m = &Message{Exchange: exchange, Key: key, Tag: tag, Value: value}
			if f.msgs == nil {
				f.msgs = map[string]*Message{}
			}
			f.msgs[tag] = m
		}
	}
	f.last = m
	return m
}

// maxPending is the capacity of a subscriber's pending tags kept from one
// publish to the next; a larger one is let go.
const maxPending = 256

// reset forgets the publish: the pending tags, the subscribers, the
// messages.
func (f *fan) reset() {
	for _, sub := range f.subs {
		if cap(sub.pending) > maxPending {
			sub.pending = nil
		} else {
			clear(sub.pending)
			sub.pending = sub.pending[:0]
		}
	}
	clear(f.subs)
	f.subs = f.subs[:0]
	if len(f.msgs) > 0 { // clearing even an empty map costs a pass over it
		clear(f.msgs)
	}
	f.first, f.last = nil, nil
}
