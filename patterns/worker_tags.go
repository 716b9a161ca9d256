package patterns

import (
	"fmt"

	"github.com/switchboard-go/switchboard/exchange/tasks"
)

// tagTable is a worker's record of its deliveries: the tags it holds, and
// the last few thousand it settled or lost, so that an ack of a tag
// acked before, revoked, or never delivered is told apart and refused
// without asking the queue.
type tagTable struct {
	state map[uint64]tagState
	done  []uint64 // settled or revoked tags, oldest first (a ring)
	head  int
	n     int
	held  int // tags in tagHeld
}

type tagState uint8

const (
	tagHeld tagState = iota + 1
	tagSettled
	tagRevoked
)

func newTagTable(prefetch int) tagTable {
	return tagTable{state: make(map[uint64]tagState, prefetch), done: make([]uint64, max(1024, 4*prefetch))}
}

func (t *tagTable) deliver(tag uint64) {
	if _, ok := t.state[tag]; !ok {
		t.state[tag] = tagHeld
		t.held++
	}
}

// settle marks a held tag acked, nacked or rejected; otherwise it says why
// not.
func (t *tagTable) settle(tag uint64) error {
	switch t.state[tag] {
	case tagHeld:
		t.retire(tag, tagSettled)
		return nil
	case tagSettled:
		return fmt.Errorf("%w: %d", tasks.ErrAlreadyAcked, tag)
	case tagRevoked:
		return fmt.Errorf("%w: %d", tasks.ErrTagRevoked, tag)
	}
	return fmt.Errorf("%w: %d", tasks.ErrUnknownTag, tag)
}

// revoke marks a held tag taken back by the queue.
func (t *tagTable) revoke(tag uint64) {
	if t.state[tag] == tagHeld {
		t.retire(tag, tagRevoked)
	}
}

// revokeAll marks every held tag taken back (the queue went away).
func (t *tagTable) revokeAll() {
	for tag, s := range t.state {
		if s == tagHeld {
			t.retire(tag, tagRevoked)
		}
	}
}

// retire moves a held tag to the remembered ones, forgetting the oldest
// of those when the ring is full.
func (t *tagTable) retire(tag uint64, s tagState) {
	t.state[tag] = s
	t.held--
	if t.n == len(t.done) {
		delete(t.state, t.done[t.head])
		t.done[t.head] = tag
		t.head = (t.head + 1) % len(t.done)
		return
	}
	t.done[(t.head+t.n)%len(t.done)] = tag
	t.n++
}
