package tasks

import (
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/internal/taskspb"
)

// A worker that leaves (TaskWorkerLeave, the protocol's way out for a
// worker that is not patterns.Worker) is unregistered at once, and the
// tasks it held go back to the queue, for the next worker, as a
// redelivery of the same task.
func TestTasksWorkerLeaveGivesBackItsTasks(t *testing.T) {
	n, ctx := localNode(t, "leave@localhost")
	q, err := Start(ctx, n, Spec{Name: "jobs"}) // the default ack timeout, a minute: no sweep takes anything back
	if err != nil {
		t.Fatal(err)
	}
	next := func(w *sweepWorker, what string) any {
		t.Helper()
		select {
		case m := <-w.got:
			return m
		case <-time.After(10 * time.Second):
			t.Fatalf("worker got no %s within 10 s", what)
			return nil
		}
	}
	stats := func() *taskspb.TaskQueueStats {
		t.Helper()
		v, err := n.Call(ctx, q, &taskspb.TaskInspect{})
		if err != nil {
			t.Fatal(err)
		}
		return v.(*taskspb.TaskQueueStats)
	}
	w1 := &sweepWorker{queue: q, got: make(chan any, 100)}
	pid1, err := n.Spawn(ctx, w1)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := next(w1, "TaskWorkerJoined").(*taskspb.TaskWorkerJoined); !ok {
		t.Fatal("w1's first message is not TaskWorkerJoined")
	}
	if _, err := n.Call(ctx, q, &Submission{Msg: "job"}); err != nil {
		t.Fatal(err)
	}
	first, ok := next(w1, "delivery").(*Batch)
	if !ok || len(first.Tasks) != 1 {
		t.Fatalf("w1's delivery %+v", first)
	}

	if err := n.Send(q, &taskspb.TaskWorkerLeave{Worker: pid1}); err != nil {
		t.Fatal(err)
	}
	// The inspection, from the same sender, is handled after the leave.
	if s := stats(); s.GetWorkers() != 0 || s.GetInFlight() != 0 || s.GetReady() != 1 {
		t.Fatalf("after w1 left: %v; want no worker and its task ready again", s)
	}
	w2 := &sweepWorker{queue: q, got: make(chan any, 100)}
	if _, err := n.Spawn(ctx, w2); err != nil {
		t.Fatal(err)
	}
	if _, ok := next(w2, "TaskWorkerJoined").(*taskspb.TaskWorkerJoined); !ok {
		t.Fatal("w2's first message is not TaskWorkerJoined")
	}
	again, ok := next(w2, "redelivery").(*Batch)
	if !ok || len(again.Tasks) != 1 || again.Tasks[0].ID != first.Tasks[0].ID || again.Tasks[0].Deliveries != 2 {
		t.Fatalf("w2's delivery %+v; want task %d again, its second delivery", again, first.Tasks[0].ID)
	}
	// w1 left: an ack from it now is refused, and it gets nothing else.
	if err := n.Send(q, &taskspb.TaskAcks{Worker: pid1, Acks: []uint64{first.Tasks[0].Tag}}); err != nil {
		t.Fatal(err)
	}
	if r, ok := next(w1, "refusal").(*taskspb.TaskAckRefused); !ok || len(r.GetTags()) != 1 || r.GetTags()[0] != first.Tasks[0].Tag {
		t.Fatalf("w1's late ack: %v; want its refusal", r)
	}
	if s := stats(); s.GetAcked() != 0 || s.GetInFlight() != 1 || s.GetRefusedAcks() != 1 {
		t.Fatalf("after w1's late ack: %v; want it refused, the task in flight at w2", s)
	}
}
