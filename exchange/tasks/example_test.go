package tasks_test

import (
	"context"
	"fmt"
	"time"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/exchange/tasks"
	"github.com/switchboard-go/switchboard/patterns"
)

// A task queue and one worker: a submitted task is delivered, handled and
// acked, and the queue's counters show it done.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	node, _ := actor.Start(actor.Config{Name: "jobs@localhost"})
	defer node.Stop(ctx)
	jobs := exchange.Named("jobs")
	tasks.Start(ctx, node, tasks.Spec{Name: "jobs"})

	acked := make(chan error, 1)
	w := patterns.NewWorker(jobs, 1, func(w *patterns.Worker, t *tasks.Task) {
		fmt.Println("working on", t.Msg)
		acked <- w.Ack(t.Tag)
	})
	node.Spawn(ctx, w)
	if err := patterns.NewTasks(node).Submit(ctx, jobs, "resize photo 7"); err != nil {
		fmt.Println("submit:", err) // nil: the queue holds the task
		return
	}
	select {
	case err := <-acked:
		fmt.Println("acked:", err)
	case <-ctx.Done():
		fmt.Println("no delivery:", ctx.Err())
		return
	}
	// The ack travels from the worker to the queue when the handler returns.
	for {
		s, err := tasks.Inspect(ctx, node, jobs)
		if err != nil {
			fmt.Println("inspect:", err) // ctx ended before the ack arrived
			return
		}
		if s.Acked == 1 {
			fmt.Printf("submitted %d, delivered %d, acked %d, in flight %d, ready %d, workers %d\n",
				s.Submitted, s.Delivered, s.Acked, s.InFlight, s.Ready, s.Workers)
			break
		}
		time.Sleep(time.Millisecond)
	}
	// Output:
	// working on resize photo 7
	// acked: <nil>
	// submitted 1, delivered 1, acked 1, in flight 0, ready 0, workers 1
}
