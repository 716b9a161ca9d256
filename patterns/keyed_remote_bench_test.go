package patterns

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
)

// BenchmarkExchangeRemoteController: the client and the exchange on one
// node, the controller on another (loopback TCP), with and without a key
// (a new key each): the path on which a keyed run carries its start bound
// and its controller checks it.
//
//	go test -run '^$' -bench ExchangeRemoteController -benchtime 10000x ./patterns
func BenchmarkExchangeRemoteController(b *testing.B) {
	for _, keyed := range []bool{false, true} {
		for _, callers := range []int{1, 10} {
			b.Run(fmt.Sprintf("keyed=%v/callers=%d", keyed, callers), func(b *testing.B) {
				e, c := node(b, "e@localhost", true), node(b, "c@localhost", true)
				startExchange(b, e, exchange.Spec{Name: "ping", Strategy: exchange.RoundRobin})
				ex := exchange.At(e.Address(), "ping")
				events := make(chan any, 10)
				ctl := NewController(ex, pongHandler)
				ctl.OnEvent = func(_ *actor.Process, ev any) { events <- ev }
				if _, err := c.Spawn(context.Background(), ctl); err != nil {
					b.Fatal(err)
				}
				waitEvent[*exchange.Leader](b, events)
				cl := NewClient(e)
				ping := wrapperspb.String("ping")
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
				defer cancel()
				var next atomic.Uint64
				callInParallel(b, callers, func() error {
					var opts []RequestOption
					if keyed {
						opts = append(opts, WithIdempotencyKey(fmt.Sprint("k", next.Add(1))))
					}
					_, err := cl.Call(ctx, ex, ping, opts...)
					return err
				})
			})
		}
	}
}

// callInParallel runs call b.N times over callers goroutines and reports
// the rate.
func callInParallel(b *testing.B, callers int, call func() error) {
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	per := b.N / callers
	for i := range callers {
		n := per
		if i == 0 {
			n += b.N % callers
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range n {
				if err := call(); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
}
