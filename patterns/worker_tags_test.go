package patterns

import (
	"errors"
	"testing"

	"github.com/switchboard-go/switchboard/exchange/tasks"
)

// A worker's tag table tells a held tag from one settled, revoked or
// never delivered, remembers at least keep retired tags, and forgets
// older ones.
func TestTagTable(t *testing.T) {
	tt := newTagTable(1)
	tt.deliver(1)
	tt.deliver(2)
	tt.deliver(3)
	tt.deliver(1) // again: still one
	if tt.held != 3 {
		t.Fatalf("held %d; want 3", tt.held)
	}
	if err := tt.settle(1); err != nil {
		t.Fatal(err)
	}
	tt.revoke(2)
	tt.deliver(1) // a settled tag delivered again stays settled
	for _, c := range []struct {
		tag  uint64
		want error
	}{{1, tasks.ErrAlreadyAcked}, {2, tasks.ErrTagRevoked}, {9, tasks.ErrUnknownTag}} {
		if err := tt.settle(c.tag); !errors.Is(err, c.want) {
			t.Errorf("settle %d = %v; want %v", c.tag, err, c.want)
		}
	}
	tt.revokeAll()
	if tt.held != 0 || !errors.Is(tt.settle(3), tasks.ErrTagRevoked) {
		t.Fatalf("after revokeAll: held %d, settle 3 = %v", tt.held, tt.settle(3))
	}

	// The memory: every one of the last keep retired tags is known; a
	// tag retired 2·keep tags ago is not.
	tt = newTagTable(1)
	keep := len(tt.done)
	for tag := uint64(1); tag <= uint64(3*keep); tag++ {
		tt.deliver(tag)
		if err := tt.settle(tag); err != nil {
			t.Fatal(err)
		}
		if tag > uint64(keep) && !errors.Is(tt.settle(tag-uint64(keep)+1), tasks.ErrAlreadyAcked) {
			t.Fatalf("tag %d, retired %d tags ago, forgotten", tag-uint64(keep)+1, keep)
		}
	}
	if err := tt.settle(uint64(keep)); !errors.Is(err, tasks.ErrUnknownTag) {
		t.Fatalf("a tag retired 2·keep tags ago = %v; want it forgotten", err)
	}
	if n := len(tt.state); n > 2*keep {
		t.Fatalf("%d tags kept; want at most %d", n, 2*keep)
	}
}

// BenchmarkTagTable is a worker's bookkeeping per task with prefetch 100:
// a batch delivered, then each tag settled.
func BenchmarkTagTable(b *testing.B) {
	tt := newTagTable(100)
	b.ReportAllocs()
	tag := uint64(0)
	for b.Loop() {
		for i := range 100 {
			tt.deliver(tag + uint64(i))
		}
		for i := range 100 {
			_ = tt.settle(tag + uint64(i))
		}
		tag += 100
	}
}
