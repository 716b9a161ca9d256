package tracing_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/patterns"
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

func benchNode(b *testing.B, name string) *actor.Node {
	n, err := actor.Start(actor.Config{Name: name, Listen: "127.0.0.1:0"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = n.Stop(context.Background()) })
	return n
}

func benchPair(b *testing.B, tr *tracing.Tracing) (*patterns.Client, exchange.Address) {
	server, client := benchNode(b, "server@localhost"), benchNode(b, "client@localhost")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	spec := exchange.Spec{Name: "ping", Strategy: exchange.RoundRobin}
	h := patterns.Handler(func(context.Context, *exchange.Request) (any, error) { return wrapperspb.String("pong"), nil })
	if tr != nil {
		spec.Middleware = []exchange.Middleware{tr.Middleware()}
		h = tr.Controller(h)
	}
	if _, err := exchange.Start(ctx, server, spec); err != nil {
		b.Fatal(err)
	}
	joined := make(chan struct{}, 1)
	ctrl := patterns.NewController(exchange.Named("ping"), h)
	ctrl.OnEvent = func(_ *actor.Process, ev any) {
		if _, ok := ev.(*exchange.Leader); ok {
			select {
			case joined <- struct{}{}:
			default:
			}
		}
	}
	if _, err := server.Spawn(ctx, ctrl); err != nil {
		b.Fatal(err)
	}
	select {
	case <-joined:
	case <-ctx.Done():
		b.Fatal("the controller did not join")
	}
	c := patterns.NewClient(client)
	if tr != nil {
		c.Intercept = tr.Intercept
	}
	return c, exchange.At(server.Address(), "ping")
}
