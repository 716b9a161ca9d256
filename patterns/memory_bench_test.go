package patterns

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
)

func heapNow() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkIdleController starts b.N/10 RoundRobin exchanges and b.N
// Controllers, ten per exchange, waits until every one has joined and
// reports the live heap each holds with its entry in its exchange
// (B/controller), as the bench module's memory section does (issue 19's
// target: 2,048 B).
//
//	go test -run '^$' -bench IdleController -benchtime 10000x ./patterns
func BenchmarkIdleController(b *testing.B) {
	n := node(b, "idle@localhost", false)
	ctx := context.Background()
	exchanges := max(1, b.N/10)
	name := func(i int) string { return fmt.Sprintf("x%d", i) }
	for i := range exchanges {
		startExchange(b, n, exchange.Spec{Name: name(i), Strategy: exchange.RoundRobin})
	}
	before := heapNow()
	var joined atomic.Int64
	all := make(chan struct{})
	onEvent := func(_ *actor.Process, ev any) {
		if l, ok := ev.(*exchange.Leader); ok && len(l.Members) > 0 && joined.Add(1) == int64(b.N) {
			close(all)
		}
	}
	b.ResetTimer()
	for i := range b.N {
		c := NewController(exchange.Named(name(i%exchanges)), pongHandler)
		c.OnEvent = onEvent
		if _, err := n.Spawn(ctx, c); err != nil {
			b.Fatal(err)
		}
	}
	select {
	case <-all:
	case <-time.After(5 * time.Minute):
		b.Fatalf("%d of %d controllers joined", joined.Load(), b.N)
	}
	b.StopTimer()
	for i := range exchanges { // each has handled its joins once it answers
		if _, err := exchange.Inspect(ctx, n, exchange.Named(name(i))); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric((float64(heapNow())-float64(before))/float64(b.N), "B/controller")
}
