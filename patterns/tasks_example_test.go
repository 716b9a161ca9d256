package patterns_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/exchange/tasks"
	"github.com/switchboard-go/switchboard/patterns"
)

// A task queue with one worker: tasks submitted before it joins come out
// by priority, FIFO within one; a nacked task comes back, marked
// redelivered.
func ExampleWorker() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	node, _ := actor.Start(actor.Config{Name: "jobs@localhost"})
	defer node.Stop(ctx)
	tasks.Start(ctx, node, tasks.Spec{Name: "jobs"})
	producer := patterns.NewTasks(node)
	producer.Submit(ctx, exchange.Named("jobs"), "mail the invoice")
	producer.Submit(ctx, exchange.Named("jobs"), "restart the server", patterns.WithPriority(9))
	producer.Submit(ctx, exchange.Named("jobs"), "water the plants")

	done := make(chan struct{})
	nacked := false
	w := patterns.NewWorker(exchange.Named("jobs"), 1, func(w *patterns.Worker, t *tasks.Task) {
		fmt.Printf("%s (priority %d, delivery %d)\n", t.Msg, t.Priority, t.Deliveries)
		if t.Msg == "mail the invoice" && !nacked {
			nacked = true
			w.Nack(t.Tag) // not now: it comes back
			return
		}
		w.Ack(t.Tag)
		if t.Msg == "water the plants" {
			close(done)
		}
	})
	node.Spawn(ctx, w)
	select {
	case <-done:
	case <-ctx.Done():
		fmt.Println("the tasks were not all done:", ctx.Err())
	}
	// Output:
	// restart the server (priority 9, delivery 1)
	// mail the invoice (priority 0, delivery 1)
	// mail the invoice (priority 0, delivery 2)
	// water the plants (priority 0, delivery 1)
}

// A durable queue confirms a task once it is on disk; a producer keeps
// many confirms in flight with SubmitAsync, and a retry with the same key
// is confirmed without making a second task. Stopped and started again on
// its directory, the queue still holds the tasks nobody acked, and still
// knows their keys.
func ExampleTasks_SubmitAsync() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dir, _ := os.MkdirTemp("", "jobs")
	defer os.RemoveAll(dir)
	spec := tasks.Spec{Name: "jobs", Dir: dir}

	node, _ := actor.Start(actor.Config{Name: "jobs@localhost"})
	tasks.Start(ctx, node, spec)
	producer := patterns.NewTasks(node)
	var confirms []*patterns.Confirm
	for _, order := range []string{"order-1", "order-2", "order-3"} {
		c, err := producer.SubmitAsync(ctx, exchange.Named("jobs"), wrapperspb.String(order), patterns.WithKey(order))
		if err != nil {
			fmt.Println("not sent:", err)
			return
		}
		confirms = append(confirms, c)
	}
	for _, c := range confirms {
		fmt.Println("confirmed:", c.Wait() == nil)
	}
	node.Stop(ctx)

	node, _ = actor.Start(actor.Config{Name: "jobs@localhost"})
	defer node.Stop(ctx)
	tasks.Start(ctx, node, spec)
	producer = patterns.NewTasks(node)
	err := producer.Submit(ctx, exchange.Named("jobs"), wrapperspb.String("order-2"), patterns.WithKey("order-2")) // a retry
	s, _ := tasks.Inspect(ctx, node, exchange.Named("jobs"))
	fmt.Printf("retry: %v; after the restart: %d ready, %d restored, %d duplicate\n", err, s.Ready, s.Restored, s.Duplicates)
	// Output:
	// confirmed: true
	// confirmed: true
	// confirmed: true
	// retry: <nil>; after the restart: 3 ready, 3 restored, 1 duplicate
}
