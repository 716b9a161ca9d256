package ops_test

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/ops"
	"github.com/switchboard-go/switchboard/patterns"
	"github.com/switchboard-go/switchboard/switchboardtest"
)

// BenchmarkRequestMetrics is request-response with metrics off and on
// (the client's Intercept and the controller's InstrumentController), in
// one node and across two over loopback. -count=N runs off and on in
// turn, N times each:
//
//	go test -run '^$' -bench RequestMetrics -count 6 ./ops
func BenchmarkRequestMetrics(b *testing.B) {
	for _, remote := range []bool{false, true} {
		for _, on := range []bool{false, true} {
			name := fmt.Sprintf("remote=%v/metrics=%v", remote, on)
			b.Run(name, func(b *testing.B) {
				c, ex := benchPair(b, remote, on)
				ping := wrapperspb.String("ping")
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
				defer cancel()
				b.ReportAllocs()
				cpu0 := cpuTime()
				for b.Loop() {
					if _, err := c.Call(ctx, ex, ping); err != nil {
						b.Fatal(err)
					}
				}
				// CPU time per request, of the whole process: on a loaded
				// machine less noisy than the wall time.
				b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
			})
		}
	}
}

// cpuTime is the process's user and system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func benchNode(b *testing.B, name string) *actor.Node {
	n, err := actor.Start(actor.Config{Name: name})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = n.Stop(context.Background()) })
	return n
}

// benchPair is an exchange and its controller on one node of a cluster of
// two, and a client on that node or the other, instrumented if on.
func benchPair(b *testing.B, remote, on bool) (*patterns.Client, exchange.Address) {
	tc := switchboardtest.NewCluster(b, 2)
	server, cn := tc.Node(1), tc.Node(1)
	if remote {
		cn = tc.Node(0)
	}
	h := patterns.Handler(func(context.Context, *exchange.Request) (any, error) { return wrapperspb.String("pong"), nil })
	c := patterns.NewClient(cn)
	if on {
		os, err := ops.New(ops.Config{Node: server, Standalone: true})
		if err != nil {
			b.Fatal(err)
		}
		h = os.InstrumentController(h)
		oc, err := ops.New(ops.Config{Node: cn, Standalone: true})
		if err != nil {
			b.Fatal(err)
		}
		c.Intercept = oc.Intercept
	}
	ex := tc.StartExchange(1, exchange.Spec{Name: "ping", Strategy: exchange.RoundRobin})
	tc.StartController(1, ex, patterns.NewController(ex, h))
	return c, ex
}

// BenchmarkMetricsPerRequest is what metrics add to one request: the
// client's Intercept and its done, and the controller's wrapper around a
// handler that does nothing.
func BenchmarkMetricsPerRequest(b *testing.B) {
	n := benchNode(b, "m@localhost")
	o, err := ops.New(ops.Config{Node: n, Standalone: true})
	if err != nil {
		b.Fatal(err)
	}
	req := exchange.NewRequest("ping", nil, actor.ReplyTo{}, false)
	h := o.InstrumentController(func(context.Context, *exchange.Request) (any, error) { return nil, nil })
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		done := o.Intercept(ctx, req)
		_, _ = h(ctx, req)
		done(nil)
	}
}
