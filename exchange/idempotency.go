package exchange

import (
	"fmt"
	"time"
)

// Idempotency bounds what an exchange remembers of keyed requests (those
// with Request.IdempotencyKey set): the outcome of each key for Window
// after it came, within MaxKeys keys and MaxBytes bytes. Zero fields take
// the defaults.
//
// Within the window a key runs once: the exchange sends the first request
// with a key to one controller and answers it, and every duplicate, with
// that controller's outcome — a duplicate that arrives while the first is
// in flight waits for the same reply, one that arrives later gets the
// remembered one. See docs/request-response.md, "Idempotency keys".
type Idempotency struct {
	// Window is how long an outcome is remembered after it came; default
	// DefaultWindow. A run in flight holds its key until its request's
	// deadline plus one Window at most: a controller may overrun the
	// deadline, and its outcome still counts.
	Window time.Duration
	// MaxKeys bounds the keys remembered or in flight; default
	// DefaultMaxKeys. The oldest outcome is forgotten (counted in
	// KeyStats.Evicted) to make room; a new key finding only runs in flight
	// is refused with ErrKeysFull.
	MaxKeys int
	// MaxBytes bounds their memory, as counted by KeyStats.Bytes: the keys,
	// the replies' protobuf sizes, the errors' texts, and a fixed cost per
	// key and per waiting duplicate; default DefaultMaxKeyBytes. A reply
	// that is not a protobuf message (within a node) counts as nothing
	// but its key's fixed cost.
	MaxBytes int
	// Lease bounds how long after the exchange sends a keyed run to a
	// controller on another node that controller may start its handler;
	// default DefaultLease. A run found later (it waited in a node that
	// was paused, or behind a long queue) is not started: the controller
	// answers ErrStale, and the exchange sends it again with a new
	// lease. The exchange also ends the lease before its node could
	// declare the controller's node down for silence, so that once it
	// does, a paused node can no longer start the run and the key may run
	// elsewhere. Keep it well above the time a run waits in a controller's
	// mailbox; see docs/request-response.md, "The key's node is paused".
	Lease time.Duration
}

// Defaults of Idempotency.
const (
	DefaultWindow      = 2 * time.Minute // JetStream's duplicate window
	DefaultMaxKeys     = 1 << 16
	DefaultMaxKeyBytes = 64 << 20
	DefaultLease       = 2 * time.Second
)

func (i Idempotency) validate() error {
	if i.Window < 0 || i.MaxKeys < 0 || i.MaxBytes < 0 || i.Lease < 0 {
		return fmt.Errorf("%w: negative idempotency bound", ErrInvalidSpec)
	}
	return nil
}

func (i *Idempotency) defaults() {
	if i.Window == 0 {
		i.Window = DefaultWindow
	}
	if i.MaxKeys == 0 {
		i.MaxKeys = DefaultMaxKeys
	}
	if i.MaxBytes == 0 {
		i.MaxBytes = DefaultMaxKeyBytes
	}
	if i.Lease == 0 {
		i.Lease = DefaultLease
	}
}

// KeyStats counts an exchange's keyed requests (Stats.Keys).
type KeyStats struct {
	// Runs counts keyed requests sent to a controller: each key's first,
	// and the runs again after a run without an outcome (Reruns of them
	// by the exchange itself, for a duplicate waiting).
	Runs, Reruns uint64
	// Stale counts runs that a controller did not start because their
	// lease had passed (ErrStale).
	Stale uint64
	// Joined counts duplicates that waited for a run in flight; Replayed
	// those answered from memory.
	Joined, Replayed uint64
	// Expired counts outcomes forgotten at the end of their window;
	// Evicted those forgotten earlier to stay within MaxKeys and MaxBytes
	// (or larger than MaxBytes on their own).
	Expired, Evicted uint64
	// Refused counts keyed requests turned away because runs in flight
	// filled the bounds (ErrKeysFull); Conflicts those whose key was in the
	// window with another payload (ErrKeyReused).
	Refused, Conflicts uint64
	// Keys and Bytes are what the exchange holds now, runs in flight
	// included.
	Keys, Bytes uint64
}
