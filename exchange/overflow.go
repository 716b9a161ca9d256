package exchange

import "fmt"

// Overflow is what an exchange does with a message for a bounded queue
// that is full: a task queue at its MaxQueue, a pub-sub subscriber at its
// MaxBacklog. Whatever the policy, the queue never grows past its bound,
// and every message refused or dropped is counted in the exchange's Stats.
type Overflow int

const (
	// OverflowDefault (the zero value) is the exchange's own default: a
	// task queue rejects (OverflowReject), a pub-sub exchange blocks
	// (OverflowBlock), so that neither loses a message to a consumer that
	// is slow for a while.
	OverflowDefault Overflow = iota
	// OverflowReject refuses the message: a task's producer gets
	// tasks.ErrQueueFull, a pub-sub subscriber misses it. Counted.
	OverflowReject
	// OverflowBlock holds the message until the queue has room or the
	// producer's deadline passes, and then rejects it as OverflowReject:
	// the producer slows down to the consumer's pace. Counted as blocked.
	OverflowBlock
	// OverflowDropOldest makes room by dropping the oldest message
	// waiting in the queue: the newest are kept, as for a feed of prices.
	// Counted as dropped.
	OverflowDropOldest
)

// String returns the policy's name.
func (o Overflow) String() string {
	switch o {
	case OverflowDefault:
		return "default"
	case OverflowReject:
		return "reject"
	case OverflowBlock:
		return "block"
	case OverflowDropOldest:
		return "drop-oldest"
	}
	return fmt.Sprintf("Overflow(%d)", int(o))
}

// Validate reports an unknown policy, wrapping ErrInvalidSpec.
func (o Overflow) Validate() error {
	if o < OverflowDefault || o > OverflowDropOldest {
		return fmt.Errorf("%w: unknown overflow policy %d", ErrInvalidSpec, int(o))
	}
	return nil
}
