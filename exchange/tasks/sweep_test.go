package tasks

import (
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/internal/taskspb"
)

// sweepWorker is a bare worker process: it joins with prefetch 1 and
// passes every message the queue sends it to the test, settling nothing.
type sweepWorker struct {
	actor.BaseServer
	queue    *actor.PID
	got      chan any
	prefetch uint32 // 0: 1
}

func (w *sweepWorker) Init(p *actor.Process) error {
	return p.Send(w.queue, &taskspb.TaskWorkerJoin{Worker: p.Self(), PrefetchLimit: max(w.prefetch, 1)})
}

func (w *sweepWorker) HandleInfo(_ *actor.Process, msg any) { w.got <- msg }

// The queue process runs the ack-timeout sweep on its own timer: a task
// its worker holds past AckTimeout is revoked and delivered again, with a
// new tag, without any other event to drive the queue.
func TestTasksSweepTimerRevokesAndRedelivers(t *testing.T) {
	n, ctx := localNode(t, "sweep@localhost")
	q, err := Start(ctx, n, Spec{Name: "jobs", AckTimeout: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	w := &sweepWorker{queue: q, got: make(chan any, 100)}
	if _, err := n.Spawn(ctx, w); err != nil {
		t.Fatal(err)
	}
	next := func(what string) any {
		t.Helper()
		select {
		case m := <-w.got:
			return m
		case <-time.After(10 * time.Second):
			t.Fatalf("worker got no %s within 10 s", what)
			return nil
		}
	}
	if _, ok := next("taskspb.TaskWorkerJoined").(*taskspb.TaskWorkerJoined); !ok {
		t.Fatal("the worker's first message is not taskspb.TaskWorkerJoined")
	}
	if _, err := n.Call(ctx, q, &Submission{Msg: "job"}); err != nil {
		t.Fatal(err)
	}
	first, ok := next("delivery").(*Batch)
	if !ok || len(first.Tasks) != 1 || first.Tasks[0].Deliveries != 1 {
		t.Fatalf("first delivery %+v", first)
	}
	// The worker holds it: only the sweep can take it back.
	revoked, ok := next("revocation").(*taskspb.TaskRevoked)
	if !ok || len(revoked.GetTags()) != 1 || revoked.GetTags()[0] != first.Tasks[0].Tag {
		t.Fatalf("after the ack timeout: %v; want the revocation of tag %d", revoked, first.Tasks[0].Tag)
	}
	again, ok := next("redelivery").(*Batch)
	if !ok || len(again.Tasks) != 1 || again.Tasks[0].Deliveries != 2 || again.Tasks[0].ID != first.Tasks[0].ID ||
		again.Tasks[0].Tag == first.Tasks[0].Tag {
		t.Fatalf("redelivery %+v; want task %d again, second delivery, new tag", again, first.Tasks[0].ID)
	}
	v, err := n.Call(ctx, q, &taskspb.TaskInspect{})
	if err != nil {
		t.Fatal(err)
	}
	// At least: the worker settles nothing, so more sweeps may have come.
	if s := v.(*taskspb.TaskQueueStats); s.GetExpired() < 1 || s.GetRedelivered() < 1 || s.GetAcked() != 0 {
		t.Fatalf("stats %v; want an expiry and a redelivery", s)
	}
}
