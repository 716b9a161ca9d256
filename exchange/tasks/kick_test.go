package tasks

import (
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/internal/taskspb"
)

// A submission to an idle queue (nothing else in its mailbox) is
// delivered as it is handled: no dispatch message of the queue to itself
// comes between. A burst still gathers behind one (the batch tests).
func TestTasksIdleQueueDispatchesInPlace(t *testing.T) {
	n, ctx := localNode(t, "idle@localhost")
	srv := newTasksServer(Spec{Name: "jobs"})
	q, err := n.Spawn(ctx, srv, actor.WithName(exchange.RegisteredName("jobs")))
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan any, 16)
	// A worker with prefetch 10 that holds every task (no ack).
	if _, err := n.Spawn(ctx, &sweepWorker{queue: q, got: got, prefetch: 10}); err != nil {
		t.Fatal(err)
	}
	recvMsg := func() any {
		t.Helper()
		select {
		case m := <-got:
			return m
		case <-time.After(10 * time.Second):
			t.Fatal("the worker got nothing within 10 s")
			return nil
		}
	}
	if _, ok := recvMsg().(*taskspb.TaskWorkerJoined); !ok {
		t.Fatal("the worker's first message is not TaskWorkerJoined")
	}
	kicks := func() uint64 {
		t.Helper()
		// A call after what the queue sent itself so far: once answered,
		// the count is the queue's last word (the race detector agrees).
		if _, err := n.Call(ctx, q, &taskspb.TaskInspect{}); err != nil {
			t.Fatal(err)
		}
		return srv.kicks
	}
	before := kicks()
	for i := range 5 {
		if _, err := n.Call(ctx, q, &Submission{Msg: i}); err != nil {
			t.Fatal(err)
		}
		if b, ok := recvMsg().(*Batch); !ok || len(b.Tasks) != 1 || b.Tasks[0].Msg != i {
			t.Fatalf("got %+v, want the delivery of %d", b, i)
		}
	}
	if k := kicks() - before; k != 0 {
		t.Fatalf("%d dispatch messages for 5 submissions to an idle queue, want 0", k)
	}
}
