package patterns

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/exchange/tasks"
)

// Confirmed durable tasks per second in one node: producers keep up to
// window submissions in flight each (SubmitAsync) and the clock stops at
// the last confirm, each meaning "synced to the log". fsyncs/s and
// tasks/fsync show the group commit at work. keyed adds an idempotency
// key to each task. 128-byte payloads, as bench/'s shapes.
//
//	go test -run '^$' -bench DurableTasks -benchtime 200000x ./patterns
func BenchmarkDurableTasks(b *testing.B) {
	for _, keyed := range []bool{false, true} {
		for _, window := range []int{1, 256} {
			b.Run(fmt.Sprintf("keyed=%v/producers=%d/window=%d", keyed, benchProducers, window), func(b *testing.B) {
				benchDurable(b, keyed, window)
			})
		}
	}
}

func benchDurable(b *testing.B, keyed bool, window int) {
	n := node(b, "queue@localhost", false)
	startTasks(b, n, tasks.Spec{Name: "jobs", MaxQueue: tasks.Unlimited, Dir: b.TempDir()})
	ex := exchange.Named("jobs")
	producer := NewTasks(n)
	msg := wrapperspb.String(string(make([]byte, 128)))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	per := b.N / benchProducers
	for i := range benchProducers {
		count := per
		if i == 0 {
			count += b.N % benchProducers
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			inflight := make([]*Confirm, 0, window)
			for j := range count {
				var opts []SubmitOption
				if keyed {
					opts = append(opts, WithKey(fmt.Sprintf("p%d-%d", i, j)))
				}
				c, err := producer.SubmitAsync(ctx, ex, msg, opts...)
				if err != nil {
					b.Error(err)
					return
				}
				if inflight = append(inflight, c); len(inflight) == window { // a sliding window: wait for the oldest
					if err := inflight[0].Wait(); err != nil {
						b.Error(err)
						return
					}
					inflight = append(inflight[:0], inflight[1:]...)
				}
			}
			for _, c := range inflight {
				if err := c.Wait(); err != nil {
					b.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	el := time.Since(start).Seconds()
	b.StopTimer()
	s, err := tasks.Inspect(ctx, n, ex)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/el, "tasks/s")
	b.ReportMetric(float64(s.Syncs)/el, "fsyncs/s")
	b.ReportMetric(float64(b.N)/float64(max(s.Syncs, 1)), "tasks/fsync")
}
