package exchange

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
)

var t0 = time.Unix(1_000_000, 0)

func waiter(ref uint64, deadline time.Time) keyWaiter {
	return keyWaiter{rt: actor.NewReplyTo("n1", ref), deadline: deadline}
}

func TestKeysRunOnceWithinTheWindow(t *testing.T) {
	k := newKeyTable(Idempotency{Window: time.Minute}, time.Unix(1, 0))
	later := t0.Add(time.Hour)
	e, what := k.arrive("k", 1, waiter(1, later), t0)
	if what != keyRun {
		t.Fatalf("first arrival: %v", what)
	}
	run := k.start(e, &Request{}, Member{PID: pid("c")})
	if _, what := k.arrive("k", 1, waiter(2, later), t0); what != keyJoin {
		t.Fatalf("duplicate in flight: %v", what)
	}
	if _, what := k.arrive("k", 2, waiter(3, later), t0); what != keyConflict {
		t.Fatalf("other payload: %v", what)
	}
	if e, _, _ := k.finish("k", run+1, "stale", nil, true, false, t0); e != nil {
		t.Fatal("a reply of another run settled the key")
	}
	_, answer, rerun := k.finish("k", run, "v", nil, true, false, t0.Add(time.Second))
	if len(answer) != 2 || rerun {
		t.Fatalf("outcome answered %d, rerun %v; want both waiters, no rerun", len(answer), rerun)
	}
	e, what = k.arrive("k", 1, waiter(4, later), t0.Add(time.Second+time.Minute-1))
	if what != keyReplay || e.val != "v" {
		t.Fatalf("duplicate within the window: %v %v", what, e.val)
	}
	if _, what = k.arrive("k", 1, waiter(5, later), t0.Add(time.Second+time.Minute)); what != keyRun {
		t.Fatalf("after the window: %v", what)
	}
	s := k.snapshot()
	want := KeyStats{Runs: 1, Joined: 1, Replayed: 1, Conflicts: 1, Expired: 1, Keys: 1, Bytes: keyCost + 1 + waiterCost}
	if s != want {
		t.Fatalf("stats %+v\nwant  %+v", s, want)
	}
}

func TestKeysTimeoutIsNoOutcome(t *testing.T) {
	k := newKeyTable(Idempotency{}, time.Unix(1, 0))
	e, _ := k.arrive("k", 1, waiter(1, t0.Add(time.Second)), t0)
	run := k.start(e, &Request{}, Member{PID: pid("c")})
	k.arrive("k", 1, waiter(2, t0.Add(3*time.Second)), t0.Add(500*time.Millisecond))
	// The first request's deadline passed: it gets the timeout, the
	// duplicate waits for a run again.
	e, answer, rerun := k.finish("k", run, nil, actor.ErrTimeout, false, true, t0.Add(time.Second))
	if len(answer) != 1 || answer[0].rt.Ref() != 1 || !rerun || !e.latest().Equal(t0.Add(3*time.Second)) {
		t.Fatalf("answered %v rerun %v", answer, rerun)
	}
	run = k.start(e, e.req, e.to)
	// A node down: no rerun; every waiter gets it and the key is free.
	_, answer, rerun = k.finish("k", run, nil, actor.ErrNodeDown, false, false, t0.Add(2*time.Second))
	if len(answer) != 1 || answer[0].rt.Ref() != 2 || rerun {
		t.Fatalf("answered %v rerun %v", answer, rerun)
	}
	if _, what := k.arrive("k", 1, waiter(3, t0.Add(time.Hour)), t0.Add(2*time.Second)); what != keyRun {
		t.Fatalf("after no outcome: %v", what)
	}
	if s := k.snapshot(); s.Runs != 2 || s.Reruns != 1 || s.Keys != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func TestKeysBounds(t *testing.T) {
	k := newKeyTable(Idempotency{MaxKeys: 2}, time.Unix(1, 0))
	settle := func(key string, val any) {
		e, what := k.arrive(key, 1, waiter(1, t0.Add(time.Hour)), t0)
		if what != keyRun {
			t.Fatalf("%s: %v", key, what)
		}
		k.finish(key, k.start(e, &Request{}, Member{}), val, nil, true, false, t0)
	}
	settle("a", "1")
	settle("b", "2")
	settle("c", "3") // a is forgotten for it
	if _, what := k.arrive("a", 1, waiter(2, t0.Add(time.Hour)), t0); what != keyRun {
		t.Fatalf("evicted key: %v", what)
	}
	if _, what := k.arrive("c", 1, waiter(2, t0.Add(time.Hour)), t0); what != keyReplay {
		t.Fatalf("kept key: %v", what)
	}
	// Two runs in flight (a, for which b went, and d, for which c goes)
	// fill the table.
	if _, what := k.arrive("d", 1, waiter(3, t0.Add(time.Hour)), t0); what != keyRun {
		t.Fatalf("d: %v", what)
	}
	if _, what := k.arrive("e", 1, waiter(4, t0.Add(time.Hour)), t0); what != keyFull {
		t.Fatalf("e with only runs in flight: %v", what)
	}
	if s := k.snapshot(); s.Evicted != 3 || s.Refused != 1 || s.Keys != 2 {
		t.Fatalf("stats %+v", s)
	}

	// Bytes: each outcome of 1,000 bytes; room for two.
	k = newKeyTable(Idempotency{MaxBytes: 2*(keyCost+1+1000) + waiterCost + keyCost + 1}, time.Unix(1, 0))
	big := wrapperspb.String(strings.Repeat("x", 997)) // 1,000 bytes encoded
	for i := range 3 {
		settle(fmt.Sprint(i), big)
	}
	if s := k.snapshot(); s.Evicted != 1 || s.Keys != 2 || s.Bytes > uint64(k.bound.MaxBytes) {
		t.Fatalf("bytes: stats %+v, bound %d", s, k.bound.MaxBytes)
	}
	settle("huge", wrapperspb.String(strings.Repeat("x", 4000))) // larger than the bound alone
	if _, what := k.arrive("huge", 1, waiter(9, t0.Add(time.Hour)), t0); what != keyRun {
		t.Fatalf("an outcome larger than the bound was remembered: %v", what)
	}
	if s := k.snapshot(); s.Bytes > uint64(k.bound.MaxBytes) {
		t.Fatalf("bytes %d over the bound %d", s.Bytes, k.bound.MaxBytes)
	}
}

func TestKeysWaitersAreBounded(t *testing.T) {
	k := newKeyTable(Idempotency{}, time.Unix(1, 0))
	e, _ := k.arrive("k", 1, waiter(1, t0.Add(time.Hour)), t0)
	k.start(e, &Request{}, Member{})
	for i := range maxWaiters - 1 {
		if _, what := k.arrive("k", 1, waiter(uint64(i+2), t0.Add(time.Second)), t0); what != keyJoin {
			t.Fatalf("duplicate %d: %v", i, what)
		}
	}
	if _, what := k.arrive("k", 1, waiter(99, t0.Add(time.Hour)), t0); what != keyFull {
		t.Fatalf("duplicate beyond the bound: %v", what)
	}
	// Once their deadlines pass, the waiters are gone and make room.
	if _, what := k.arrive("k", 1, waiter(100, t0.Add(time.Hour)), t0.Add(time.Second)); what != keyJoin {
		t.Fatalf("duplicate after the others' deadlines: %v", what)
	}
	if len(e.waiters) != 2 || k.bytes != keyCost+1+2*waiterCost {
		t.Fatalf("%d waiters, %d bytes", len(e.waiters), k.bytes)
	}
}

func TestIsOutcome(t *testing.T) {
	handlerErr := errors.New("shop: out of stock")
	for _, c := range []struct {
		err  error
		want bool
	}{
		{nil, true},
		{handlerErr, true},
		{&actor.RemoteError{Text: "shop: out of stock"}, true},
		{fmt.Errorf("%w: after 1s", actor.ErrTimeout), false},
		{&actor.NodeDownError{Address: "x"}, false},
		{fmt.Errorf("%w: c1", actor.ErrNoProcess), false},
		{&actor.ExitError{Reason: &actor.PanicError{Value: "boom"}}, false},
		{&actor.RemoteError{Text: (&actor.ExitError{PID: pid("c"), Reason: errors.New("boom")}).Error()}, false},
	} {
		if got := isOutcome(c.err); got != c.want {
			t.Errorf("isOutcome(%v) = %v; want %v", c.err, got, c.want)
		}
	}
}
