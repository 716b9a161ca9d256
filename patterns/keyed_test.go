package patterns

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
)

// runCount counts the runs of a handler, per key, across controllers.
type runCount struct {
	mu   sync.Mutex
	runs map[string]int
	by   map[string]string // key -> the controllers that ran it
}

func (r *runCount) add(key, controller string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.runs == nil {
		r.runs, r.by = map[string]int{}, map[string]string{}
	}
	r.runs[key]++
	r.by[key] += controller + " "
	return r.runs[key]
}

func (r *runCount) of(key string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.runs[key]
}

// keyedNodes is a client node a, an exchange node b with controller b1,
// and a node c with controller c1, over loopback. Each controller answers
// with h(its name).
func keyedNodes(t *testing.T, spec exchange.Spec, h func(name string) Handler) (a, b, c *actor.Node, ex exchange.Address, pids map[string]*actor.PID) {
	t.Helper()
	a, b, c = node(t, "a@localhost", true), node(t, "b@localhost", true), node(t, "c@localhost", true)
	startExchange(t, b, spec)
	ex = exchange.At(b.Address(), spec.Name)
	pids = map[string]*actor.PID{}
	for name, n := range map[string]*actor.Node{"b1": b, "c1": c} {
		events := make(chan any, 100)
		ctl := NewController(ex, h(name))
		ctl.OnEvent = func(_ *actor.Process, ev any) { events <- ev }
		pid, err := n.Spawn(ctxT(t), ctl)
		if err != nil {
			t.Fatal(err)
		}
		waitEvent[*exchange.Leader](t, events)
		pids[name] = pid
	}
	return a, b, c, ex, pids
}

// awaitKeys polls the exchange's key counters until ok holds, for 10 s.
func awaitKeys(t *testing.T, n *actor.Node, ex exchange.Address, what string, ok func(exchange.KeyStats) bool) exchange.KeyStats {
	t.Helper()
	s, err := keysReach(n, ex, ok)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return s
}

// keysReach is awaitKeys for any goroutine: an error if ok did not hold
// within 10 s.
func keysReach(n *actor.Node, ex exchange.Address, ok func(exchange.KeyStats) bool) (exchange.KeyStats, error) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		info, err := exchange.Inspect(ctx, n, ex)
		cancel()
		if err != nil {
			return exchange.KeyStats{}, err
		}
		if ok(info.Stats.Keys) {
			return info.Stats.Keys, nil
		}
		if time.Now().After(deadline) {
			return info.Stats.Keys, fmt.Errorf("not within 10 s: key stats %+v", info.Stats.Keys)
		}
		time.Sleep(2 * time.Millisecond) // a poll interval, not a synchronisation
	}
}

// TestKeyedDuplicatesRunOnce sends one keyed request from clients on two
// nodes at once: the handler runs once, every request gets its reply, and
// a duplicate sent after it gets the remembered reply.
func TestKeyedDuplicatesRunOnce(t *testing.T) {
	var runs runCount
	gate := make(chan struct{})
	a, b, c, ex, _ := keyedNodes(t, exchange.Spec{Name: "pay", Strategy: exchange.RoundRobin}, func(name string) Handler {
		return func(_ context.Context, req *exchange.Request) (any, error) {
			n := runs.add(req.IdempotencyKey, name)
			<-gate
			return wrapperspb.String(fmt.Sprintf("%s run %d", name, n)), nil
		}
	})
	const dups = 16
	replies := make(chan string, dups)
	var wg sync.WaitGroup
	for i := range dups {
		cl := NewClient(a)
		if i%2 == 1 {
			cl = NewClient(c)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := cl.Call(ctxT(t), ex, wrapperspb.String("charge 10"), WithIdempotencyKey("order-1"), WithRetry(Retry{Attempts: 1}))
			if err != nil {
				replies <- "error: " + err.Error()
				return
			}
			replies <- str(v)
		}()
	}
	awaitKeys(t, b, ex, "15 duplicates waiting", func(s exchange.KeyStats) bool { return s.Joined == dups-1 })
	close(gate)
	wg.Wait()
	close(replies)
	first := ""
	for r := range replies {
		if first == "" {
			first = r
		}
		if r != first || !strings.HasSuffix(r, "run 1") {
			t.Fatalf("replies differ or ran twice: %q and %q", first, r)
		}
	}
	if got := call(t, NewClient(a), ex, "charge 10", WithIdempotencyKey("order-1")); got != first {
		t.Fatalf("later duplicate got %q; want the remembered %q", got, first)
	}
	if n := runs.of("order-1"); n != 1 {
		t.Fatalf("handler ran %d times (%s); want once", n, runs.by["order-1"])
	}
	s := awaitKeys(t, b, ex, "counters", func(exchange.KeyStats) bool { return true })
	if s.Runs != 1 || s.Joined != dups-1 || s.Replayed != 1 || s.Keys != 1 {
		t.Fatalf("key stats %+v", s)
	}
	// Another key is another run.
	if got := call(t, NewClient(a), ex, "charge 10", WithIdempotencyKey("order-2")); !strings.HasSuffix(got, "run 1") || runs.of("order-2") != 1 {
		t.Fatalf("order-2: %q", got)
	}
}

// TestKeyedRetryAfterTimeout: the handler stalls the first time, past the
// first try's deadline; the client's retry joins the run in flight and
// returns the first run's outcome, and the handler ran once.
func TestKeyedRetryAfterTimeout(t *testing.T) {
	var runs runCount
	release := make(chan struct{})
	a, b, _, ex, _ := keyedNodes(t, exchange.Spec{Name: "pay", Strategy: exchange.RoundRobin}, func(name string) Handler {
		return func(_ context.Context, req *exchange.Request) (any, error) {
			if runs.add(req.IdempotencyKey, name) == 1 {
				<-release // stalls past its deadline: the client times out
				return wrapperspb.String("first"), nil
			}
			return wrapperspb.String("second"), nil
		}
	})
	polled := make(chan error, 1)
	go func() {
		defer close(release)
		_, err := keysReach(b, ex, func(s exchange.KeyStats) bool { return s.Joined >= 1 })
		polled <- err
	}()
	start := time.Now()
	v, err := NewClient(a).Call(ctxT(t), ex, wrapperspb.String("charge"), WithIdempotencyKey("k"),
		WithRetry(Retry{Attempts: 5, PerTry: 200 * time.Millisecond, Backoff: 10 * time.Millisecond}))
	if err := <-polled; err != nil {
		t.Fatalf("the retry waiting: %v", err)
	}
	if err != nil || str(v) != "first" {
		t.Fatalf("got %v, %v; want the first outcome", v, err)
	}
	if time.Since(start) < 200*time.Millisecond {
		t.Fatal("the first try did not time out: the test tests nothing")
	}
	if n := runs.of("k"); n != 1 {
		t.Fatalf("handler ran %d times; want once", n)
	}

	// The same request without a key is not repeated: the stall is a timeout.
	var once runCount
	release2 := make(chan struct{})
	defer close(release2)
	a, _, _, ex, _ = keyedNodes(t, exchange.Spec{Name: "read", Strategy: exchange.RoundRobin}, func(name string) Handler {
		return func(_ context.Context, req *exchange.Request) (any, error) {
			if once.add("", name) == 1 {
				<-release2
			}
			return wrapperspb.String("read"), nil
		}
	})
	ctx, cancel := context.WithTimeout(ctxT(t), 300*time.Millisecond)
	defer cancel()
	if _, err := NewClient(a).Call(ctx, ex, wrapperspb.String("get")); !errors.Is(err, actor.ErrTimeout) || once.of("") != 1 {
		t.Fatalf("unkeyed: %v after %d runs; want ErrTimeout after 1", err, once.of(""))
	}
	// Marked safe to repeat, it is: the second try runs it again.
	v, err = NewClient(a).Call(ctxT(t), ex, wrapperspb.String("get"), SafeToRepeat(), WithRetry(Retry{PerTry: 300 * time.Millisecond}))
	if err != nil || str(v) != "read" || once.of("") != 2 {
		t.Fatalf("safe to repeat: %v, %v after %d runs", v, err, once.of(""))
	}
}

// TestKeyedRerunAfterHandlerTimeout: a handler that honours its deadline
// times out while the client's retry waits; the exchange runs it again at
// once for the retry, on the same controller, and the retry gets that
// run's outcome.
func TestKeyedRerunAfterHandlerTimeout(t *testing.T) {
	var runs runCount
	var b *actor.Node
	var ex exchange.Address
	a, b, _, ex, _ := keyedNodes(t, exchange.Spec{Name: "pay", Strategy: exchange.RoundRobin}, func(name string) Handler {
		return func(ctx context.Context, req *exchange.Request) (any, error) {
			if runs.add(req.IdempotencyKey, name) == 1 {
				<-ctx.Done() // the first run times out with its request...
				if _, err := keysReach(b, ex, func(s exchange.KeyStats) bool { return s.Joined >= 1 }); err != nil {
					return nil, err // ...once the retry waits
				}
				return nil, ctx.Err()
			}
			return wrapperspb.String("ran on " + name), nil
		}
	})
	v, err := NewClient(a).Call(ctxT(t), ex, wrapperspb.String("charge"), WithIdempotencyKey("k"),
		WithRetry(Retry{Attempts: 3, PerTry: 300 * time.Millisecond, Backoff: time.Millisecond}))
	if err != nil || !strings.HasPrefix(str(v), "ran on ") {
		t.Fatalf("got %v, %v", v, err)
	}
	by := strings.Fields(runs.by["k"])
	if len(by) != 2 || by[0] != by[1] {
		t.Fatalf("runs on %v; want two on one controller", by)
	}
	if s := awaitKeys(t, b, ex, "counters", func(exchange.KeyStats) bool { return true }); s.Runs != 2 || s.Reruns != 1 {
		t.Fatalf("key stats %+v; want 2 runs, 1 of them the exchange's rerun", s)
	}
}

// TestKeyedControllerDies: the key's controller dies with the run in
// flight; no outcome is remembered, and the client's retry runs on the
// other controller.
func TestKeyedControllerDies(t *testing.T) {
	var runs runCount
	stall := make(chan struct{})
	defer close(stall)
	a, b, c, ex, pids := keyedNodes(t, exchange.Spec{Name: "pay", Strategy: exchange.RoundRobin}, func(name string) Handler {
		return func(_ context.Context, req *exchange.Request) (any, error) {
			if runs.add(req.IdempotencyKey, name) == 1 {
				<-stall
			}
			return wrapperspb.String(name), nil
		}
	})
	done := make(chan string, 1)
	go func() {
		v, err := NewClient(a).Call(ctxT(t), ex, wrapperspb.String("charge"), WithIdempotencyKey("k"),
			WithRetry(Retry{Attempts: 4, PerTry: 2 * time.Second, Backoff: 10 * time.Millisecond}))
		done <- fmt.Sprint(str(v), " ", err)
	}()
	awaitKeys(t, b, ex, "the run in flight", func(s exchange.KeyStats) bool { return s.Runs == 1 })
	var first string
	for runs.of("k") == 0 { // the run has reached the controller once Runs is 1; its count may lag
		time.Sleep(time.Millisecond)
	}
	first = strings.TrimSpace(runs.by["k"])
	killed := map[string]*actor.Node{"b1": b, "c1": c}[first]
	killed.Exit(pids[first], actor.ErrKill)
	got := recvWithin(t, done, "the retried call")
	other := map[string]string{"b1": "c1", "c1": "b1"}[first]
	if got != other+" <nil>" {
		t.Fatalf("after %s died: %q; want %s's reply", first, got, other)
	}
}

// TestKeyedWindowExpires: within the window a duplicate is answered from
// memory; after it, the key runs again.
func TestKeyedWindowExpires(t *testing.T) {
	const window = 500 * time.Millisecond
	var runs runCount
	a, _, _, ex, _ := keyedNodes(t, exchange.Spec{Name: "pay", Strategy: exchange.RoundRobin, Idempotency: exchange.Idempotency{Window: window}},
		func(name string) Handler {
			return func(_ context.Context, req *exchange.Request) (any, error) {
				return wrapperspb.String(fmt.Sprint("run ", runs.add(req.IdempotencyKey, name))), nil
			}
		})
	cl := NewClient(a)
	sent := time.Now()
	if got := call(t, cl, ex, "x", WithIdempotencyKey("k")); got != "run 1" {
		t.Fatalf("first: %q", got)
	}
	for {
		got := call(t, cl, ex, "x", WithIdempotencyKey("k"))
		if got == "run 1" {
			if time.Since(sent) > 10*time.Second {
				t.Fatal("the window did not end within 10 s")
			}
			time.Sleep(10 * time.Millisecond) // a poll interval
			continue
		}
		if got != "run 2" || time.Since(sent) < window {
			t.Fatalf("got %q after %v; want run 2, not before the %v window", got, time.Since(sent), window)
		}
		break
	}
}

// TestKeyedMemoryIsBounded: the exchange keeps at most MaxKeys outcomes and
// MaxBytes bytes, forgetting the oldest and counting them.
func TestKeyedMemoryIsBounded(t *testing.T) {
	var runs runCount
	reply := strings.Repeat("r", 1000)
	spec := exchange.Spec{Name: "pay", Strategy: exchange.RoundRobin, Idempotency: exchange.Idempotency{MaxKeys: 8, MaxBytes: 6 << 10}}
	a, b, _, ex, _ := keyedNodes(t, spec, func(name string) Handler {
		return func(_ context.Context, req *exchange.Request) (any, error) {
			runs.add(req.IdempotencyKey, name)
			if req.Msg.(*wrapperspb.StringValue).GetValue() == "big" {
				return wrapperspb.String(reply), nil
			}
			return wrapperspb.String("ok"), nil
		}
	})
	cl := NewClient(a)
	for i := range 20 {
		call(t, cl, ex, "small", WithIdempotencyKey(fmt.Sprint("s", i)))
	}
	s := awaitKeys(t, b, ex, "counters", func(exchange.KeyStats) bool { return true })
	if s.Keys != 8 || s.Evicted != 12 {
		t.Fatalf("after 20 keys, bound 8: %+v", s)
	}
	call(t, cl, ex, "small", WithIdempotencyKey("s19")) // kept
	call(t, cl, ex, "small", WithIdempotencyKey("s0"))  // forgotten: runs again
	if runs.of("s19") != 1 || runs.of("s0") != 2 {
		t.Fatalf("s19 ran %d times, s0 %d; want 1 and 2", runs.of("s19"), runs.of("s0"))
	}
	for i := range 10 {
		call(t, cl, ex, "big", WithIdempotencyKey(fmt.Sprint("b", i)))
	}
	s = awaitKeys(t, b, ex, "counters", func(exchange.KeyStats) bool { return true })
	if s.Bytes > 6<<10 || s.Keys > 5 || s.Evicted < 12+5 {
		t.Fatalf("after 10 outcomes of 1 KB, bound 6 KiB: %+v", s)
	}
}

// TestKeyedOutcomesAndRefusals: a handler's error is an outcome; what a
// key cannot go with is refused with a typed error.
func TestKeyedOutcomesAndRefusals(t *testing.T) {
	var runs runCount
	a, _, _, ex, _ := keyedNodes(t, exchange.Spec{Name: "pay", Strategy: exchange.RoundRobin}, func(name string) Handler {
		return func(_ context.Context, req *exchange.Request) (any, error) {
			runs.add(req.IdempotencyKey, name)
			return nil, fmt.Errorf("%w: order 7", errDeclined)
		}
	})
	cl := NewClient(a)
	for range 3 {
		if _, err := cl.Call(ctxT(t), ex, wrapperspb.String("charge"), WithIdempotencyKey("k")); !errors.Is(err, errDeclined) {
			t.Fatalf("got %v; want the handler's error", err)
		}
	}
	if runs.of("k") != 1 {
		t.Fatalf("the handler's error ran %d times; want once", runs.of("k"))
	}
	for _, c := range []struct {
		what string
		err  error
		want error
	}{
		{"key reused", func() error {
			_, err := cl.Call(ctxT(t), ex, wrapperspb.String("refund"), WithIdempotencyKey("k"))
			return err
		}(), exchange.ErrKeyReused},
		{"CallAll", func() error {
			_, err := cl.CallAll(ctxT(t), ex, wrapperspb.String("x"), WithIdempotencyKey("all"))
			return err
		}(), exchange.ErrKeyUnsupported},
		{"Stream", func() (err error) {
			for _, err = range cl.Stream(ctxT(t), ex, wrapperspb.String("x"), WithIdempotencyKey("s")) {
			}
			return err
		}(), exchange.ErrKeyUnsupported},
		{"Interact", func() error {
			_, err := cl.Interact(ctxT(t), ex, wrapperspb.String("x"), nil, WithIdempotencyKey("i"))
			return err
		}(), exchange.ErrKeyUnsupported},
		{"retry unkeyed", func() error { _, err := cl.Call(ctxT(t), ex, wrapperspb.String("x"), WithRetry(Retry{})); return err }(), ErrInvalidOption},
		{"bad jitter", func() error {
			_, err := cl.Call(ctxT(t), ex, wrapperspb.String("x"), WithIdempotencyKey("j"), WithRetry(Retry{Jitter: 2}))
			return err
		}(), ErrInvalidOption},
		{"exchange refuses keyed want-all", func() error {
			pend := a.NewPending(ctxT(t), ex.Node, true)
			defer pend.Release()
			req := exchange.NewRequest("pay", wrapperspb.String("x"), pend.ReplyTo(), true)
			req.IdempotencyKey, req.Deadline = "w", time.Now().Add(5*time.Second)
			if err := req.ForwardTo(a, ex.PID(a)); err != nil {
				return err
			}
			v, err := pend.Wait(ctxT(t))
			if _, refusal, ok := exchange.RoutedCount(v); ok {
				return refusal
			}
			return err
		}(), exchange.ErrKeyUnsupported},
	} {
		if !errors.Is(c.err, c.want) {
			t.Errorf("%s: %v; want %v", c.what, c.err, c.want)
		}
	}
	if runs.of("all")+runs.of("s")+runs.of("i")+runs.of("")+runs.of("j")+runs.of("w") != 0 {
		t.Fatalf("a refused request ran: %v", runs.runs)
	}
}

var errDeclined = errors.New("shop: declined")
