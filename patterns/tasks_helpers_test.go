package patterns

import (
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/exchange/tasks"
)

// Helpers of the task queue tests.

func startTasks(t testing.TB, n *actor.Node, spec tasks.Spec) {
	t.Helper()
	if _, err := tasks.Start(ctxT(t), n, spec); err != nil {
		t.Fatal(err)
	}
}

// delivery is one task as a test worker saw it.
type delivery struct {
	worker string
	task   tasks.Task
	held   int // the worker's unsettled tasks when it got this one, this one included
}

// testWorker is a worker in a test: its deliveries and events go to
// channels; mode says what it does with a task.
type testWorker struct {
	name   string
	pid    *actor.PID
	w      *Worker
	got    chan delivery
	events chan any
}

// Modes of a test worker.
const (
	ackAll  = "ack"  // ack at once
	nackAll = "nack" // nack at once
	holdAll = "hold" // keep, for the test to settle
)

// startWorker starts a worker of ex on n and returns once the queue has
// registered it.
func startWorker(t testing.TB, n *actor.Node, ex exchange.Address, name string, prefetch int, mode string) *testWorker {
	t.Helper()
	tw := &testWorker{name: name, got: make(chan delivery, 10000), events: make(chan any, 1000)}
	tw.w = NewWorker(ex, prefetch, func(w *Worker, task *tasks.Task) {
		tw.got <- delivery{worker: name, task: *task, held: w.Outstanding()}
		switch mode {
		case ackAll:
			_ = w.Ack(task.Tag)
		case nackAll:
			_ = w.Nack(task.Tag)
		}
	})
	tw.w.OnEvent = func(_ *actor.Process, ev any) { tw.events <- ev }
	pid, err := n.Spawn(ctxT(t), tw.w)
	if err != nil {
		t.Fatal(err)
	}
	tw.pid = pid
	waitEvent[*tasks.WorkerJoined](t, tw.events)
	return tw
}

// next returns the worker's next delivery, failing the test after 10 s.
func (tw *testWorker) next(t testing.TB) delivery {
	t.Helper()
	select {
	case d := <-tw.got:
		return d
	case <-time.After(10 * time.Second):
		t.Fatalf("worker %s got no task (%d held)", tw.name, tw.w.Outstanding())
		return delivery{}
	}
}

// none checks that the worker has no delivery waiting.
func (tw *testWorker) none(t testing.TB) {
	t.Helper()
	select {
	case d := <-tw.got:
		t.Fatalf("worker %s got %s (delivery %d)", tw.name, str(d.task.Msg), d.task.Deliveries)
	default:
	}
}

func submit(t testing.TB, producer *Tasks, ex exchange.Address, msg string, opts ...SubmitOption) {
	t.Helper()
	if err := producer.Submit(ctxT(t), ex, wrapperspb.String(msg), opts...); err != nil {
		t.Fatalf("submit %q: %v", msg, err)
	}
}

// waitStats polls the queue's counters until ok holds (the queue's own
// state: acks travel asynchronously, so there is no event to await), for
// at most 10 s.
func waitStats(t testing.TB, n *actor.Node, ex exchange.Address, ok func(tasks.Stats) bool) tasks.Stats {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	ctx := ctxT(t) // one context for the whole wait, not a cleanup per poll
	for {
		s, err := tasks.Inspect(ctx, n, ex)
		if err == nil && ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("queue stats %+v (err %v) never satisfied the test", s, err)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
