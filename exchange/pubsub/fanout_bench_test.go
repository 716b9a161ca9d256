package pubsub_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/internal/fanout"
)

// BenchmarkFanOut: one publish to 1,000,000 subscriptions on 10 nodes, in
// this OS process over loopback TCP (internal/fanout): a hub with the
// exchange and no subscriber, 10 nodes with a proxy of it each. ns/op is
// one publish until every subscriber has it; frames/publish the frames
// all 11 nodes sent meanwhile (10: one from the hub to each proxy);
// cpu-ns/delivery, allocs/delivery and goroutines/delivery the process's
// CPU time, heap objects and goroutines started per delivery.
//
// procs=1000/tags=100 is the shape of the figure (1,000
// processes per node with 100 tags each); procs=100000/tags=1 is Ergo's
// (100,000 processes per node: a million processes, about 3 GB).
func BenchmarkFanOut(b *testing.B) {
	for _, shape := range []struct{ procs, tags int }{{1000, 100}, {100000, 1}} {
		b.Run(fmt.Sprintf("procs=%d/tags=%d", shape.procs, shape.tags), func(b *testing.B) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			cfg := fanout.Config{Nodes: 10, Procs: shape.procs, Tags: shape.tags}
			c, err := fanout.Start(ctx, cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			var sum fanout.Publish
			b.ResetTimer()
			for range b.N {
				p, err := c.Publish(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if p.Frames != uint64(cfg.Nodes) {
					b.Fatalf("one publish sent %d frames, want %d", p.Frames, cfg.Nodes)
				}
				sum.CPU += p.CPU
				sum.Allocs += p.Allocs
				sum.Goroutines += p.Goroutines
				sum.Frames += p.Frames
			}
			b.StopTimer()
			d := float64(b.N) * float64(cfg.Subscriptions())
			b.ReportMetric(float64(sum.Frames)/float64(b.N), "frames/publish")
			b.ReportMetric(float64(sum.CPU.Nanoseconds())/d, "cpu-ns/delivery")
			b.ReportMetric(float64(sum.Allocs)/d, "allocs/delivery")
			b.ReportMetric(float64(sum.Goroutines)/d, "goroutines/delivery")
		})
	}
}
