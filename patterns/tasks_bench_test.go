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
	"github.com/switchboard-go/switchboard/exchange/tasks"
)

// Acked tasks per second: producers submit b.N tasks (each confirmed by the
// queue), workers ack each as they get it, and the clock stops when the
// queue has counted every ack. 1 and 10 workers, prefetch 1 and 100, in
// one node and with the workers on another node (loopback TCP).
//
//	go test -run '^$' -bench Tasks -benchtime 200000x ./patterns
func BenchmarkTasks(b *testing.B) {
	for _, remote := range []bool{false, true} {
		where := "node"
		if remote {
			where = "nodes"
		}
		for _, workers := range []int{1, 10} {
			for _, prefetch := range []int{1, 100} {
				b.Run(fmt.Sprintf("%s/workers=%d/prefetch=%d", where, workers, prefetch), func(b *testing.B) {
					benchTasks(b, remote, workers, prefetch)
				})
			}
		}
	}
}

// BenchmarkTasksAsync is BenchmarkTasks with producers that keep a
// window of submissions in flight (SubmitAsync, each confirm waited for
// once the window is full), as a JetStream or RabbitMQ publisher with
// confirms does: a producer no longer waits a round trip per task.
//
//	go test -run '^$' -bench TasksAsync -benchtime 200000x ./patterns
func BenchmarkTasksAsync(b *testing.B) {
	for _, workers := range []int{1, 10} {
		b.Run(fmt.Sprintf("node/workers=%d/prefetch=100/window=%d", workers, benchWindow), func(b *testing.B) {
			benchTasksWith(b, false, workers, 100, benchWindow)
		})
	}
}

const (
	benchProducers = 8
	benchWindow    = 64 // confirms in flight per producer (BenchmarkTasksAsync)
)

func benchTasks(b *testing.B, remote bool, workers, prefetch int) {
	benchTasksWith(b, remote, workers, prefetch, 0)
}

// benchTasksWith: window 0 submits with Submit, one at a time per
// producer; above 0 with SubmitAsync, window confirms in flight.
func benchTasksWith(b *testing.B, remote bool, workers, prefetch, window int) {
	qn := node(b, "queue@localhost", remote)
	wn := qn
	if remote {
		wn = node(b, "workers@localhost", true)
	}
	startTasks(b, qn, tasks.Spec{Name: "jobs", MaxQueue: tasks.Unlimited})
	ex := exchange.At(qn.Address(), "jobs")
	var acked atomic.Int64
	done := make(chan struct{})
	total := int64(b.N)
	for range workers {
		w := NewWorker(ex, prefetch, func(w *Worker, t *tasks.Task) {
			_ = w.Ack(t.Tag)
			if acked.Add(1) == total {
				close(done)
			}
		})
		joined := make(chan struct{}, 1)
		w.OnEvent = func(_ *actor.Process, ev any) {
			if _, ok := ev.(*tasks.WorkerJoined); ok {
				select {
				case joined <- struct{}{}:
				default:
				}
			}
		}
		if _, err := wn.Spawn(context.Background(), w); err != nil {
			b.Fatal(err)
		}
		select {
		case <-joined:
		case <-time.After(10 * time.Second):
			b.Fatal("a worker did not join within 10 s")
		}
	}
	producer := NewTasks(qn)
	msg := wrapperspb.String("task")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu := time.Now(), cpuTime()
	var wg sync.WaitGroup
	per := b.N / benchProducers
	for i := range benchProducers {
		n := per
		if i == 0 {
			n += b.N % benchProducers
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if window > 0 {
				submitWindowed(b, ctx, producer, msg, n, window)
				return
			}
			for range n {
				if err := producer.Submit(ctx, exchange.Named("jobs"), msg); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	select {
	case <-done:
	case <-ctx.Done():
		b.Fatal("not every task was acked")
	}
	for { // the queue has counted every ack
		s, err := tasks.Inspect(ctx, qn, exchange.Named("jobs"))
		if err != nil {
			b.Fatal(err)
		}
		if s.Acked == uint64(b.N) {
			break
		}
		time.Sleep(100 * time.Microsecond)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "tasks/s")
	b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/task")
}

// submitWindowed submits n tasks with up to window confirms in flight,
// and waits for every confirm.
func submitWindowed(b *testing.B, ctx context.Context, producer *Tasks, msg any, n, window int) {
	ring := make([]*Confirm, window)
	for i := range n + window {
		slot := &ring[i%window]
		if *slot != nil {
			if err := (*slot).Wait(); err != nil {
				b.Error(err)
				return
			}
			*slot = nil
		}
		if i >= n {
			continue
		}
		c, err := producer.SubmitAsync(ctx, exchange.Named("jobs"), msg)
		if err != nil {
			b.Error(err)
			return
		}
		*slot = c
	}
}
