package patterns_test

import (
	"context"
	"fmt"
	"time"

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
