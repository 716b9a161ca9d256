package patterns

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
)

// BenchmarkExchangeHop is BenchmarkExchange's ping-pong with the client,
// the exchange and the controller on three nodes over loopback TCP: the
// exchange's node forwards every request to another node, the shape in
// which it logs the request (actor.Node.Forward) to answer it if the
// controller's node goes down.
//
//	go test -run '^$' -bench ExchangeHop -benchtime 100000x ./patterns
func BenchmarkExchangeHop(b *testing.B) {
	for _, callers := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("callers=%d", callers), func(b *testing.B) {
			a, ex, c := node(b, "a@localhost", true), node(b, "b@localhost", true), node(b, "c@localhost", true)
			startExchange(b, ex, exchange.Spec{Name: "ping", Strategy: exchange.RoundRobin})
			events := make(chan any, 10)
			ctl := NewController(exchange.At(ex.Address(), "ping"), pongHandler)
			ctl.OnEvent = func(_ *actor.Process, ev any) { events <- ev }
			if _, err := c.Spawn(context.Background(), ctl); err != nil {
				b.Fatal(err)
			}
			waitEvent[*exchange.Leader](b, events)
			cl, to := NewClient(a), exchange.At(ex.Address(), "ping")
			ping := wrapperspb.String("ping")
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			b.ReportAllocs()
			b.ResetTimer()
			start, cpu0 := time.Now(), cpuTime()
			var wg sync.WaitGroup
			per := b.N / callers
			for i := 0; i < callers; i++ {
				n := per
				if i == 0 {
					n += b.N % callers
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					for j := 0; j < n; j++ {
						if _, err := cl.Call(ctx, to, ping); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/req")
		})
	}
}
