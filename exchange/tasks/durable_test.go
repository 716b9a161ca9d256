package tasks

import (
	"context"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/internal/taskspb"
)

// ackWorker joins with a large prefetch and acks the first `acks` tasks
// it gets, holding the rest.
type ackWorker struct {
	actor.BaseServer
	queue *actor.PID
	acks  int
	got   chan []Task
}

func (w *ackWorker) Init(p *actor.Process) error {
	return p.Send(w.queue, &taskspb.TaskWorkerJoin{Worker: p.Self(), PrefetchLimit: MaxPrefetch})
}

func (w *ackWorker) HandleInfo(p *actor.Process, msg any) {
	b, ok := msg.(*Batch)
	if !ok {
		return
	}
	acks := &taskspb.TaskAcks{Worker: p.Self()}
	for _, t := range b.Tasks {
		if w.acks > 0 {
			w.acks--
			acks.Acks = append(acks.Acks, t.Tag)
		}
	}
	_ = p.Send(w.queue, acks)
	w.got <- b.Tasks
}

// While it runs, a durable queue whose segment outgrows its bound writes
// a snapshot into a new segment and removes the old ones: the log stays
// near the size of the live tasks, and a restart from it finds exactly the
// tasks not acked, in flight ones included.
func TestDurableQueueCompactsItsLogWhileRunning(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := func(name string) (*actor.Node, *actor.PID) {
		n, err := actor.Start(actor.Config{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = n.Stop(context.Background()) })
		srv := newTasksServer(Spec{Name: "jobs", Dir: dir, MaxQueue: Unlimited})
		srv.segBytes = 16 << 10
		q, err := n.Spawn(ctx, srv, actor.WithName(exchange.RegisteredName("jobs")))
		if err != nil {
			t.Fatal(err)
		}
		return n, q
	}
	stats := func(n *actor.Node, q *actor.PID) *taskspb.TaskQueueStats {
		v, err := n.Call(ctx, q, &taskspb.TaskInspect{})
		if err != nil {
			t.Fatal(err)
		}
		return v.(*taskspb.TaskQueueStats)
	}
	n, q := start("compact@localhost")
	w := &ackWorker{queue: q, acks: 1500, got: make(chan []Task, 10000)}
	if _, err := n.Spawn(ctx, w); err != nil {
		t.Fatal(err)
	}
	payload := wrapperspb.String(string(make([]byte, 100)))
	for range 2000 {
		if _, err := n.Call(ctx, q, &Submission{Msg: payload}); err != nil {
			t.Fatal(err)
		}
	}
	held := map[uint64]bool{}
	for seen := 0; seen < 2000; {
		select {
		case ts := <-w.got:
			for _, task := range ts {
				if seen >= 1500 {
					held[task.ID] = true
				}
				seen++
			}
		case <-ctx.Done():
			t.Fatal("the worker did not get every task")
		}
	}
	for deadline := time.Now().Add(10 * time.Second); stats(n, q).GetAcked() < 1500; {
		if time.Now().After(deadline) {
			t.Fatal("acks not counted within 10 s")
		}
		time.Sleep(time.Millisecond)
	}
	if err := n.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	nos, err := segments(dir)
	if err != nil || len(nos) > 2 || nos[0] < 3 {
		t.Fatalf("segments %v (%v): want the log compacted while running, at most two left", nos, err)
	}

	n2, q2 := start("compact2@localhost")
	if s := stats(n2, q2); s.GetRestored() != 500 || s.GetReady() != 500 {
		t.Fatalf("restored %d, ready %d; want the 500 tasks in flight back", s.GetRestored(), s.GetReady())
	}
	w2 := &ackWorker{queue: q2, got: make(chan []Task, 10000)}
	if _, err := n2.Spawn(ctx, w2); err != nil {
		t.Fatal(err)
	}
	for seen := 0; seen < 500; {
		select {
		case ts := <-w2.got:
			for _, task := range ts {
				if !held[task.ID] || !task.Redelivered() {
					t.Fatalf("after the restart: task %d (held before: %v, redelivered: %v)", task.ID, held[task.ID], task.Redelivered())
				}
				seen++
			}
		case <-ctx.Done():
			t.Fatal("the restarted queue did not deliver the 500")
		}
	}
}
