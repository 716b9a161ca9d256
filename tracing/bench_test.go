package tracing_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/patterns"
	"github.com/switchboard-go/switchboard/switchboardtest"
	"github.com/switchboard-go/switchboard/tracing"
)

// BenchmarkTracing is request-response between two nodes over loopback
// (client on one, exchange and controller on the other) with tracing off
// (nothing installed), installed but sampling nothing, and sampling
// every request into an in-memory recorder. Run the modes in turn:
//
//	for m in off never always; do go test -run '^$' -bench "Tracing/$m" ./tracing; done
func BenchmarkTracing(b *testing.B) {
	for _, mode := range []string{"off", "never", "always"} {
		b.Run(mode, func(b *testing.B) {
			var tr *tracing.Tracing
			switch mode {
			case "never":
				tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()))
				b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
				tr = tracing.New(tracing.Config{TracerProvider: tp})
			case "always":
				tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(tracetest.NewSpanRecorder()))
				b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
				tr = tracing.New(tracing.Config{TracerProvider: tp})
			}
			c, ex := benchPair(b, tr)
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
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchPair is an exchange and its controller on one node of a cluster of
// two and a client on the other, traced if tr is not nil.
func benchPair(b *testing.B, tr *tracing.Tracing) (*patterns.Client, exchange.Address) {
	tc := switchboardtest.NewCluster(b, 2)
	spec := exchange.Spec{Name: "ping", Strategy: exchange.RoundRobin}
	h := patterns.Handler(func(context.Context, *exchange.Request) (any, error) { return wrapperspb.String("pong"), nil })
	c := patterns.NewClient(tc.Node(0))
	if tr != nil {
		spec.Middleware = []exchange.Middleware{tr.Middleware()}
		h = tr.Controller(h)
		c.Intercept = tr.Intercept
	}
	ex := tc.StartExchange(1, spec)
	tc.StartController(1, ex, patterns.NewController(ex, h))
	return c, ex
}
