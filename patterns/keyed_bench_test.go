package patterns

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"
)

// BenchmarkExchangeKeyed is BenchmarkExchange with an idempotency key on
// every request: unique keys (each request runs, and its outcome is
// remembered), or one key for all (each request after the first is
// answered from memory by the exchange).
//
//	go test -run '^$' -bench ExchangeKeyed -benchtime 30000x ./patterns
func BenchmarkExchangeKeyed(b *testing.B) {
	for _, remote := range []bool{false, true} {
		where := "node"
		if remote {
			where = "nodes"
		}
		for _, keys := range []string{"unique", "one"} {
			for _, callers := range []int{1, 10} {
				b.Run(fmt.Sprintf("%s/keys=%s/callers=%d", where, keys, callers), func(b *testing.B) {
					cl, ex := benchSetup(b, remote)
					ping := wrapperspb.String("ping")
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
					defer cancel()
					var next atomic.Uint64
					b.ReportAllocs()
					b.ResetTimer()
					start := time.Now()
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
								key := "k"
								if keys == "unique" {
									key = fmt.Sprint("k", next.Add(1))
								}
								if _, err := cl.Call(ctx, ex, ping, WithIdempotencyKey(key)); err != nil {
									b.Error(err)
									return
								}
							}
						}()
					}
					wg.Wait()
					b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
				})
			}
		}
	}
}
