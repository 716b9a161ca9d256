package exchange

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/actor"
)

// TestKeysInvariants drives the table with random arrivals, runs and
// answers on a random clock and checks after every step what must always
// hold: the bytes counted are the entries' sizes, within both bounds; the
// outcomes queue holds exactly the entries with an outcome, oldest first;
// no key with a run in flight lacks a waiter's slot in the count.
func TestKeysInvariants(t *testing.T) {
	for seed := range uint64(50) {
		rng := rand.New(rand.NewPCG(seed, 7))
		bound := Idempotency{Window: time.Duration(1+rng.IntN(50)) * time.Millisecond, MaxKeys: 1 + rng.IntN(12), MaxBytes: 600 + rng.IntN(4000)}
		k := newKeyTable(bound, time.Unix(1, 0))
		now := t0
		runs := map[string]uint64{} // key -> the run started for it
		for step := range 2000 {
			now = now.Add(time.Duration(rng.IntN(3)) * time.Millisecond)
			key := fmt.Sprint("k", rng.IntN(20))
			switch rng.IntN(3) {
			case 0, 1:
				e, what := k.arrive(key, uint64(rng.IntN(2)), waiter(uint64(step+1), now.Add(time.Duration(rng.IntN(20))*time.Millisecond)), now)
				if what == keyRun {
					runs[key] = k.start(e, &Request{}, Member{})
				}
			case 2:
				run, ok := runs[key]
				if !ok {
					continue
				}
				var val any
				var err error
				switch rng.IntN(4) {
				case 0:
					err = actor.ErrTimeout
				case 1:
					err = errors.New(strings.Repeat("e", rng.IntN(900)))
				default:
					val = fmt.Sprint(rng.IntN(100))
				}
				e, _, rerun := k.finish(key, run, val, err, isOutcome(err), err != nil && !isOutcome(err), now)
				delete(runs, key)
				if rerun {
					runs[key] = k.start(e, e.req, e.to)
				}
			}
			check(t, k, seed, step)
		}
	}
}

func check(t *testing.T, k *keyTable, seed uint64, step int) {
	t.Helper()
	sum, outcomes := 0, 0
	for key, e := range k.byKey {
		if e.key != key {
			t.Fatalf("seed %d step %d: entry %q under %q", seed, step, e.key, key)
		}
		sum += e.size
		if !e.running {
			outcomes++
		}
	}
	if sum != k.bytes || k.bytes > k.bound.MaxBytes || len(k.byKey) > k.bound.MaxKeys {
		t.Fatalf("seed %d step %d: bytes %d (entries %d), bound %d; keys %d, bound %d", seed, step, k.bytes, sum, k.bound.MaxBytes, len(k.byKey), k.bound.MaxKeys)
	}
	queued := k.fifo[k.head:]
	if len(queued) != outcomes {
		t.Fatalf("seed %d step %d: %d outcomes queued, %d in the table", seed, step, len(queued), outcomes)
	}
	for i, e := range queued {
		if e.running || k.byKey[e.key] != e || (i > 0 && e.done.Before(queued[i-1].done)) {
			t.Fatalf("seed %d step %d: queue entry %d (%q) out of place", seed, step, i, e.key)
		}
	}
}
