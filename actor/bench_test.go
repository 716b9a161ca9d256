package actor

import (
	"context"
	"log/slog"
	"testing"
	"time"

	pa "github.com/asynkron/protoactor-go/actor"

	"github.com/switchboard-go/switchboard/internal/cputime"
)

// The Call round trip against protoactor's RequestFuture, in one run, both
// to an echo actor on the same node: sequential, and from 100 concurrent
// callers (b.SetParallelism(50) on 2 cores).

type paEcho struct{}

func (paEcho) Receive(ctx pa.Context) {
	if _, ok := ctx.Message().(int); ok {
		ctx.Respond(ctx.Message())
	}
}

func benchCall(b *testing.B, parallel bool) {
	n, err := Start(Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer n.Stop(context.Background())
	pid, err := n.Spawn(context.Background(), &fn{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	defer reportCPU(b, cputime.Self())
	if !parallel {
		for i := 0; i < b.N; i++ {
			if _, err := n.Call(ctx, pid, 1); err != nil {
				b.Fatal(err)
			}
		}
		return
	}
	b.SetParallelism(50)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := n.Call(ctx, pid, 1); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func benchFuture(b *testing.B, parallel bool) {
	quiet := slog.New(slog.DiscardHandler)
	system := pa.NewActorSystem(pa.WithLoggerFactory(func(*pa.ActorSystem) *slog.Logger { return quiet }))
	defer system.Shutdown()
	pid := system.Root.Spawn(pa.PropsFromProducer(func() pa.Actor { return paEcho{} }))
	defer system.Root.Stop(pid)
	b.ReportAllocs()
	b.ResetTimer()
	if !parallel {
		for i := 0; i < b.N; i++ {
			if _, err := system.Root.RequestFuture(pid, 1, 5*time.Second).Result(); err != nil {
				b.Fatal(err)
			}
		}
		return
	}
	b.SetParallelism(50)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := system.Root.RequestFuture(pid, 1, 5*time.Second).Result(); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkCall(b *testing.B)                     { benchCall(b, false) }
func BenchmarkCallParallel100(b *testing.B)          { benchCall(b, true) }
func BenchmarkRequestFuture(b *testing.B)            { benchFuture(b, false) }
func BenchmarkRequestFutureParallel100(b *testing.B) { benchFuture(b, true) }

// BenchmarkCallWithDeadline is Call with a context deadline, the usual case
// in services: the caller selects on the reply and ctx.Done().
func BenchmarkCallWithDeadline(b *testing.B) {
	n, err := Start(Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer n.Stop(context.Background())
	pid, err := n.Spawn(context.Background(), &fn{})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	b.ReportAllocs()
	defer reportCPU(b, cputime.Self())
	for b.Loop() {
		if _, err := n.Call(ctx, pid, 1); err != nil {
			b.Fatal(err)
		}
	}
}

// reportCPU reports the process's CPU time since start per operation: on a
// shared machine it repeats where the time per operation does not.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cputime.Self()-start)/float64(b.N), "cpu-ns/op")
}
