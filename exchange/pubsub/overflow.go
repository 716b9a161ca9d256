package pubsub

import (
	"errors"
	"fmt"
	"time"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/internal/pubsubpb"
)

// The policy of Spec.Overflow, applied per subscriber: send hands a
// message to a subscriber within MaxBacklog (for one on this node, the
// length of its mailbox; for one on another node, the bound of this node's
// queue for it), and decides what happens when it is at its bound.

const (
	flushEvery   = 2 * time.Millisecond  // how often held messages are offered again
	firstBackoff = 50 * time.Microsecond // the first wait under OverflowBlock ...
	maxBackoff   = 5 * time.Millisecond  // ... doubling up to this
)

func (s *Spec) defaults() {
	if s.MaxBacklog == 0 {
		s.MaxBacklog = DefaultMaxBacklog
	}
	if s.MaxInbox == 0 {
		s.MaxInbox = DefaultMaxInbox
	}
	if s.BlockTimeout == 0 {
		s.BlockTimeout = DefaultBlockTimeout
	}
	if s.Resync == 0 {
		s.Resync = ResyncInterval
	}
}

// limit is the bound of a subscriber's backlog: 0 for none.
func (s *pubsub) limit() int { return max(s.spec.MaxBacklog, 0) }

// errBacklogFull: trySend found the subscriber at MaxBacklog.
var errBacklogFull = fmt.Errorf("%w: the subscriber's backlog is full", actor.ErrOverloaded)

// trySend sends msg to sub unless it is at its bound (ErrOverloaded). The
// length of a local subscriber's mailbox is read only when the room known
// from the last reading is used up: a subscriber that keeps up costs one
// reading per MaxBacklog messages, not one per message (a reading of a
// mailbox that its own goroutine drains is a cache miss). Its room only
// grows between readings, as it takes messages; what other senders put in
// its mailbox counts at the next reading.
func (s *pubsub) trySend(sub *subscriber, msg any) error {
	if limit := s.limit(); limit > 0 && sub.local {
		if sub.room <= 0 {
			backlog, ok := s.backlog(sub)
			if !ok {
				return nil // gone: as a Send to it, dropped
			}
			if sub.room = limit - backlog; sub.room <= 0 {
				return errBacklogFull
			}
		}
		sub.room--
	}
	if sub.h.PID() != nil {
		return sub.h.Send(s.p, msg)
	}
	return s.p.Send(sub.pid, msg)
}

// backlog is the length of a local subscriber's mailbox, false if it is
// gone.
func (s *pubsub) backlog(sub *subscriber) (int, bool) {
	if sub.h.PID() != nil {
		return sub.h.Backlog()
	}
	return s.p.Node().Backlog(sub.pid)
}

// send delivers msg (a *Message or a *pubsubpb.Delivery) to sub under the
// exchange's policy.
func (s *pubsub) send(sub *subscriber, msg any) {
	if sub.held.len() > 0 { // behind those already held, in order
		s.hold(sub, msg)
		s.flushSub(sub)
		return
	}
	err := s.trySend(sub, msg)
	if !errors.Is(err, actor.ErrOverloaded) {
		s.sent(sub, msg, err)
		return
	}
	switch s.spec.Overflow {
	case exchange.OverflowBlock, exchange.OverflowDefault:
		s.block(sub, msg)
	case exchange.OverflowDropOldest:
		s.hold(sub, msg)
	default:
		s.stats.Overflowed++
	}
}

// sent counts a delivery that trySend made (err nil) or that failed
// for another reason than a full queue (this node stopping: nothing to
// count).
func (s *pubsub) sent(sub *subscriber, msg any, err error) {
	if err != nil {
		return
	}
	sub.stuck = false
	s.stats.Delivered++
	if _, remote := msg.(*pubsubpb.Delivery); remote {
		s.stats.Remote++
	}
}

// block waits, polling, until sub has room for msg or BlockTimeout has
// passed; the exchange takes nothing else meanwhile, so its inbox fills
// and publishers wait for room (see Spec.MaxInbox). A subscriber that
// made the exchange wait a whole BlockTimeout is stuck: its messages are
// rejected at once until it has room again, so that one subscriber that
// never reads does not cost every publish a BlockTimeout.
func (s *pubsub) block(sub *subscriber, msg any) {
	if sub.stuck {
		s.stats.Overflowed++
		return
	}
	s.stats.Blocked++
	deadline := time.Now().Add(s.spec.BlockTimeout)
	for wait := firstBackoff; ; wait = min(2*wait, maxBackoff) {
		left := time.Until(deadline)
		if left <= 0 {
			sub.stuck = true
			s.stats.Overflowed++
			return
		}
		select {
		case <-s.p.Done():
			return
		case <-time.After(min(wait, left)):
		}
		// A local subscriber gets messages again once it has taken half
		// its bound: one wait per MaxBacklog/2 messages, not one per
		// message, for a subscriber a little slower than its producers.
		if b, ok := s.backlog(sub); sub.local && ok && b > s.limit()/2 {
			continue
		}
		if err := s.trySend(sub, msg); !errors.Is(err, actor.ErrOverloaded) {
			s.sent(sub, msg, err)
			return
		}
	}
}

// hold keeps msg for sub until it has room, dropping the oldest held
// message when MaxBacklog are held already.
func (s *pubsub) hold(sub *subscriber, msg any) {
	limit := s.limit()
	if limit == 0 { // no bound to hold within: only another node's full queue gets here
		s.stats.Overflowed++
		return
	}
	if sub.held.len() >= limit {
		sub.held.pop()
		s.stats.Dropped++
	}
	sub.held.push(msg)
	if !sub.holding {
		sub.holding = true
		s.holding = append(s.holding, sub)
	}
	if !s.flushing {
		s.flushing = true
		s.stopFlush = s.p.SendAfter(flushEvery, flushHeld{})
	}
}

// flushSub hands sub as many held messages as it has room for.
func (s *pubsub) flushSub(sub *subscriber) {
	for sub.held.len() > 0 {
		msg := sub.held.front()
		err := s.trySend(sub, msg)
		if errors.Is(err, actor.ErrOverloaded) {
			return
		}
		sub.held.pop()
		s.sent(sub, msg, err)
	}
}

// flush offers every subscriber its held messages, and comes back while
// some remain.
func (s *pubsub) flush() {
	keep := s.holding[:0]
	for _, sub := range s.holding {
		s.flushSub(sub)
		if sub.held.len() > 0 {
			keep = append(keep, sub)
		} else {
			sub.holding = false
		}
	}
	clear(s.holding[len(keep):])
	s.holding = keep
	if len(keep) > 0 {
		s.flushing = true
		s.stopFlush = s.p.SendAfter(flushEvery, flushHeld{})
	}
}

// release forgets what is held for a subscriber that is gone.
func (s *pubsub) release(sub *subscriber) { sub.held = held{} }

func (s *pubsub) heldCount() int {
	n := 0
	for _, sub := range s.holding {
		n += sub.held.len()
	}
	return n
}

// held is a FIFO ring of messages for one subscriber.
type held struct {
	buf  []any
	head int
	n    int
}

func (h *held) len() int { return h.n }

func (h *held) push(m any) {
	if h.n == len(h.buf) {
		buf := make([]any, max(16, 2*len(h.buf)))
		for i := range h.n {
			buf[i] = h.buf[(h.head+i)%len(h.buf)]
		}
		h.buf, h.head = buf, 0
	}
	h.buf[(h.head+h.n)%len(h.buf)] = m
	h.n++
}

func (h *held) front() any { return h.buf[h.head] }

func (h *held) pop() {
	h.buf[h.head] = nil
	h.head = (h.head + 1) % len(h.buf)
	h.n--
	if h.n == 0 {
		h.buf, h.head = nil, 0 // a subscriber that caught up holds no buffer
	}
}
