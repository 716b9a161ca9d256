package patterns

import (
	"errors"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/exchange/tasks"
)

// Under OverflowBlock a submission to a full queue waits: the producer's
// call returns once a worker has taken a task and made room, or with
// ErrQueueFull after BlockTimeout; nothing is refused while room comes in
// time, and the refusals are counted.
func TestTasksOverflowBlock(t *testing.T) {
	const max = 4
	n := node(t, "a@localhost", false)
	ex := exchange.Named("jobs")
	startTasks(t, n, tasks.Spec{Name: "jobs", MaxQueue: max, Overflow: exchange.OverflowBlock, BlockTimeout: 300 * time.Millisecond})
	producer := NewTasks(n)
	for i := range max {
		submit(t, producer, ex, string(rune('a'+i)))
	}
	// Full, no worker: the fifth waits its BlockTimeout and is refused.
	start := time.Now()
	err := producer.Submit(ctxT(t), ex, wrapperspb.String("late"))
	if waited := time.Since(start); !errors.Is(err, tasks.ErrQueueFull) || waited < 300*time.Millisecond {
		t.Fatalf("submit to a full queue: %v after %v; want ErrQueueFull after the 300 ms BlockTimeout", err, waited)
	}
	// Two more; a worker that takes one task makes room for one of them,
	// and the other waits on until its BlockTimeout.
	done := make(chan error, 2)
	for _, m := range []string{"e", "f"} {
		go func() { done <- producer.Submit(ctxT(t), ex, wrapperspb.String(m)) }()
	}
	w := startWorker(t, n, ex, "w", 1, holdAll)
	if d := w.next(t); str(d.task.Msg) != "a" {
		t.Fatalf("first delivery %q", str(d.task.Msg))
	}
	if err := recv(t, done); err != nil {
		t.Fatalf("the first answered submission, after a task left: %v", err)
	}
	if err := recv(t, done); !errors.Is(err, tasks.ErrQueueFull) {
		t.Fatalf("the second: %v, want ErrQueueFull", err)
	}
	st := waitStats(t, n, ex, func(s tasks.Stats) bool { return s.Ready == max })
	if st.Submitted != max+1 || st.Refused != 2 {
		t.Fatalf("stats %+v: want %d submitted, 2 refused", st, max+1)
	}
}

// Under OverflowDropOldest a submission to a full queue is taken and the
// oldest ready task of the lowest priority is dead-lettered in its place,
// with DEAD_CAUSE_OVERFLOW; higher priorities are kept.
func TestTasksOverflowDropOldest(t *testing.T) {
	const max = 4
	n := node(t, "a@localhost", false)
	ex := exchange.Named("jobs")
	startTasks(t, n, tasks.Spec{Name: "dead"})
	startTasks(t, n, tasks.Spec{Name: "jobs", MaxQueue: max, Overflow: exchange.OverflowDropOldest, DeadLetter: exchange.Named("dead")})
	producer := NewTasks(n)
	submit(t, producer, ex, "urgent", WithPriority(5))
	for _, m := range []string{"a", "b", "c", "d", "e"} {
		submit(t, producer, ex, m)
	}
	st := waitStats(t, n, ex, func(s tasks.Stats) bool { return s.DeadLettered == 2 && s.DeadLetterPending == 0 })
	if st.Ready != max || st.Submitted != 6 || st.Refused != 0 {
		t.Fatalf("stats %+v: want %d ready, 6 submitted, none refused", st, max)
	}
	w := startWorker(t, n, ex, "w", 10, ackAll)
	for _, want := range []string{"urgent", "c", "d", "e"} {
		if d := w.next(t); str(d.task.Msg) != want {
			t.Fatalf("delivery %q, want %q", str(d.task.Msg), want)
		}
	}
	dl := startWorker(t, n, exchange.Named("dead"), "dl", 10, ackAll)
	for _, want := range []string{"a", "b"} {
		d := dl.next(t)
		l, ok := d.task.Msg.(*tasks.DeadLetter)
		if !ok || l.GetCause() != tasks.DeadCause_DEAD_CAUSE_OVERFLOW {
			t.Fatalf("dead letter %+v, want cause OVERFLOW", d.task.Msg)
		}
		v, err := l.GetPayload().UnmarshalNew()
		if err != nil || str(v) != want {
			t.Fatalf("dead letter of %v (%v), want %q", v, err, want)
		}
	}
}

// A worker that holds its tasks under a producer that submits 80 MB:
// under drop-oldest the queue keeps MaxQueue tasks and discards the rest,
// counted, and the heap grows by no more than the bound docs/tasks.md
// states (MaxQueue tasks at their payload, and their bookkeeping).
func TestTasksSlowWorkerKeepsHeapBounded(t *testing.T) {
	const maxQueue, total, size = 1000, 20_000, 4 << 10
	n := node(t, "a@localhost", false)
	ex := exchange.Named("jobs")
	startTasks(t, n, tasks.Spec{Name: "jobs", MaxQueue: maxQueue, Overflow: exchange.OverflowDropOldest})
	w := startWorker(t, n, ex, "w", 10, holdAll)
	producer := NewTasks(n)
	ctx := ctxT(t)
	base := heapAfterGC()
	var peak int64
	for i := range total {
		if err := producer.Submit(ctx, ex, wrapperspb.Bytes(make([]byte, size))); err != nil {
			t.Fatalf("submit %d: %v", i, err)
		}
		if i%5000 == 4999 {
			peak = max(peak, heapAfterGC()-base)
		}
	}
	st := waitStats(t, n, ex, func(s tasks.Stats) bool { return s.Submitted == total })
	bound := int64(2 * maxQueue * size) // the ready tasks, the ten in flight, and each one's envelope
	t.Logf("slow worker, drop-oldest: heap grew by at most %.1f MB (bound %.1f MB) for %d MiB submitted; %+v",
		float64(peak)/1e6, float64(bound)/1e6, total*size>>20, st)
	if peak > bound {
		t.Fatalf("the heap grew by %d bytes, bound %d", peak, bound)
	}
	if st.Ready != maxQueue || st.InFlight != 10 || st.Discarded != total-maxQueue-10 {
		t.Fatalf("stats %+v: want %d ready, 10 in flight, %d discarded", st, maxQueue, total-maxQueue-10)
	}
	_ = w
}
