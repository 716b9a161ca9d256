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

// The seed's benchmark: ping to an exchange, pong from its controller,
// sequential and over 2, 4, 10 and 100 parallel callers; (a) client,
// exchange and controller in one node, (b) the client on another node over
// loopback TCP. Reported as req/s, and the CPU time of the process per
// request (cpu-ns/req: what a loaded machine inflates less than the rate).
//
//	go test -run '^$' -bench Exchange -benchtime 100000x ./patterns

var pong = wrapperspb.String("pong")

func pongHandler(context.Context, *exchange.Request) (any, error) { return pong, nil }

func benchSetup(b testing.TB, remote bool) (*Client, exchange.Address) {
	server := node(b, "server@localhost", remote)
	startExchange(b, server, exchange.Spec{Name: "ping", Strategy: exchange.RoundRobin})
	events := make(chan any, 10)
	c := NewController(exchange.Named("ping"), pongHandler)
	c.OnEvent = func(_ *actor.Process, ev any) { events <- ev }
	if _, err := server.Spawn(context.Background(), c); err != nil {
		b.Fatal(err)
	}
	waitEvent[*exchange.Leader](b, events)
	if !remote {
		return NewClient(server), exchange.Named("ping")
	}
	client := node(b, "client@localhost", true)
	return NewClient(client), exchange.At(server.Address(), "ping")
}

func BenchmarkExchange(b *testing.B) {
	for _, remote := range []bool{false, true} {
		where := "node"
		if remote {
			where = "nodes"
		}
		for _, callers := range []int{1, 2, 4, 10, 100} {
			b.Run(fmt.Sprintf("%s/callers=%d", where, callers), func(b *testing.B) {
				cl, ex := benchSetup(b, remote)
				ping := wrapperspb.String("ping")
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
				defer cancel()
				b.ReportAllocs()
				b.ResetTimer()
				start, cpu := time.Now(), cpuTime()
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
							if _, err := cl.Call(ctx, ex, ping); err != nil {
								b.Error(err)
								return
							}
						}
					}()
				}
				wg.Wait()
				b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
				b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/req")
			})
		}
	}
}
