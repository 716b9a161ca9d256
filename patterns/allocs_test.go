package patterns

import (
	"context"
	"testing"

	"google.golang.org/protobuf/types/known/wrapperspb"
)

// TestRoundTripAllocs pins the allocations of a request through an
// exchange on another node and its reply (issue 19: at most 10 per round
// trip, counted over the whole process: both nodes, their readers and
// writers; BenchmarkExchange shows 9 to 10 between nodes, 2 to 3 in one: the
// request, the handler's context and the controller mailbox's schedule).
// Each bound leaves one allocation to timing: protoactor's mailbox
// allocates when it schedules an idle mailbox, 0.3 to 0.6 times per call.
// The race detector's sync.Pool drops what is put into it, so the bounds
// hold only without it.
func TestRoundTripAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool keeps nothing under -race")
	}
	for _, tc := range []struct {
		remote bool
		max    float64
	}{{false, 4}, {true, 11}} {
		cl, ex := benchSetup(t, tc.remote)
		ping := wrapperspb.String("ping")
		ctx := context.Background()
		got := testing.AllocsPerRun(2000, func() {
			if _, err := cl.Call(ctx, ex, ping); err != nil {
				t.Fatal(err)
			}
		})
		t.Logf("remote=%v: %.2f allocs per round trip", tc.remote, got)
		if got > tc.max {
			t.Errorf("remote=%v: %.2f allocs per round trip, want at most %v", tc.remote, got, tc.max)
		}
	}
}
