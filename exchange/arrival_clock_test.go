package exchange

import (
	"testing"
	"time"
)

// TestArrivalClockFollowsWallClock: the arrival clock reads the wall clock
// (within a millisecond: the monotonic and the wall clock may be slewed
// apart that much), and a wrong offset (a step of the wall clock) is
// corrected at the next resync.
func TestArrivalClockFollowsWallClock(t *testing.T) {
	c := newArrivalClock()
	check := func(what string) {
		t.Helper()
		before := time.Now().UnixNano()
		got := c.unixNano()
		after := time.Now().UnixNano()
		if got < before-int64(time.Millisecond) || got > after+int64(time.Millisecond) {
			t.Fatalf("%s: arrival clock %d, wall clock between %d and %d", what, got, before, after)
		}
	}
	check("new")
	c.offset.Add(int64(time.Hour)) // the wall clock stepped back an hour
	if got, now := c.unixNano(), time.Now().UnixNano(); got-now < int64(59*time.Minute) {
		t.Fatalf("before its resync the clock moved with the step: %d, wall clock %d", got, now)
	}
	c.resync.Store(0) // a second has passed
	check("resynced")
}
