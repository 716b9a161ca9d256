package patterns

import (
	"context"
	"fmt"
	"runtime/metrics"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/exchange/pubsub"
)

// waiter counts deliveries and wakes the benchmark when a target is met.
type waiter struct {
	got    atomic.Int64
	target atomic.Int64
	done   chan struct{}
}

func (w *waiter) count() {
	if w.got.Add(1) == w.target.Load() {
		w.done <- struct{}{}
	}
}

// expect arms the waiter for n more deliveries.
func (w *waiter) expect(n int64) { w.target.Store(w.got.Load() + n) }

func (w *waiter) wait(b *testing.B) {
	select {
	case <-w.done:
	case <-time.After(60 * time.Second):
		b.Fatalf("got %d of %d deliveries", w.got.Load(), w.target.Load())
	}
}

// BenchmarkPubSub: deliveries per second from one publisher to 1, 100 and
// 10,000 subscriber processes on one node, and the CPU time of the process
// per delivery (which a loaded machine inflates less than the rate), and
// the goroutines started per delivery (by the node's dispatcher, when it
// has no idle worker for a subscriber's run).
func BenchmarkPubSub(b *testing.B) {
	for _, subs := range []int{1, 100, 10000} {
		b.Run(fmt.Sprintf("subscribers=%d", subs), func(b *testing.B) {
			n := node(b, "bench@localhost", false)
			ex := exchange.Named("bench")
			if _, err := pubsub.Start(ctxT(b), n, pubsub.Spec{Name: "bench"}); err != nil {
				b.Fatal(err)
			}
			w := &waiter{done: make(chan struct{}, 1)}
			for range subs {
				pid, err := n.Spawn(ctxT(b), &counter{count: w.count})
				if err != nil {
					b.Fatal(err)
				}
				if err := Subscribe(ctxT(b), n, ex, "bench.*", "", pid); err != nil {
					b.Fatal(err)
				}
			}
			msg := wrapperspb.String("tick")
			// One context for every publish: one per publish would count
			// its timer and cleanup among the publish's allocations.
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			b.ResetTimer()
			cpu, spawned := cpuTime(), goroutinesCreated()
			w.expect(int64(b.N) * int64(subs))
			for range b.N {
				if err := Publish(ctx, n, ex, "bench.tick", msg); err != nil {
					b.Fatal(err)
				}
			}
			w.wait(b)
			b.StopTimer()
			b.ReportMetric(float64(b.N)*float64(subs)/b.Elapsed().Seconds(), "deliveries/s")
			b.ReportMetric(float64(cpuTime()-cpu)/(float64(b.N)*float64(subs)), "cpu-ns/delivery")
			b.ReportMetric(float64(goroutinesCreated()-spawned)/(float64(b.N)*float64(subs)), "goroutines/delivery")
		})
	}
}

// goroutinesCreated is how many goroutines this process has started.
func goroutinesCreated() uint64 {
	s := []metrics.Sample{{Name: "/sched/goroutines-created:goroutines"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}
