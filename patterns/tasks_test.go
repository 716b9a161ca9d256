package patterns

import (
	"errors"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/exchange/pubsub"
	"github.com/switchboard-go/switchboard/exchange/tasks"
	"github.com/switchboard-go/switchboard/internal/taskspb"
	"github.com/switchboard-go/switchboard/supervisor"
)

func TestTasksSubmitWorkAck(t *testing.T) {
	n := node(t, "a@localhost", false)
	ex := exchange.Named("jobs")
	startTasks(t, n, tasks.Spec{Name: "jobs"})
	w := startWorker(t, n, ex, "w1", 1, ackAll)
	producer := NewTasks(n)
	for _, m := range []string{"a", "b", "c"} {
		submit(t, producer, ex, m)
	}
	for i, want := range []string{"a", "b", "c"} {
		d := w.next(t)
		if str(d.task.Msg) != want || d.task.Deliveries != 1 || d.task.Redelivered() || d.task.Queue != "jobs" || d.task.ID != uint64(i+1) {
			t.Fatalf("delivery %d: %+v", i, d.task)
		}
	}
	s := waitStats(t, n, ex, func(s tasks.Stats) bool { return s.Acked == 3 })
	if s.Submitted != 3 || s.Delivered != 3 || s.Ready != 0 || s.InFlight != 0 || s.Workers != 1 || s.Redelivered != 0 {
		t.Fatalf("stats %+v", s)
	}
}

// A nacked task goes to another worker with room, not back to the one that
// gave it back.
func TestTasksNackRedeliversToAnotherWorker(t *testing.T) {
	n := node(t, "a@localhost", false)
	ex := exchange.Named("jobs")
	startTasks(t, n, tasks.Spec{Name: "jobs"})
	w1 := startWorker(t, n, ex, "w1", 1, nackAll) // first in the round-robin
	w2 := startWorker(t, n, ex, "w2", 1, ackAll)
	submit(t, NewTasks(n), ex, "a")
	if d := w1.next(t); str(d.task.Msg) != "a" || d.task.Deliveries != 1 {
		t.Fatalf("w1 got %+v", d.task)
	}
	d := w2.next(t)
	if str(d.task.Msg) != "a" || d.task.Deliveries != 2 || !d.task.Redelivered() {
		t.Fatalf("w2 got %+v", d.task)
	}
	s := waitStats(t, n, ex, func(s tasks.Stats) bool { return s.Acked == 1 })
	if s.Nacked != 1 || s.Redelivered != 1 || s.Delivered != 2 || s.InFlight != 0 {
		t.Fatalf("stats %+v", s)
	}
	w1.none(t)
}

// A task neither acked nor nacked within the ack timeout is taken back and
// delivered to another worker; the first worker's ack then fails with
// ErrTagRevoked and changes nothing.
func TestTasksAckTimeoutRedelivers(t *testing.T) {
	n := node(t, "a@localhost", false)
	ex := exchange.Named("jobs")
	startTasks(t, n, tasks.Spec{Name: "jobs", AckTimeout: 50 * time.Millisecond})
	w1 := startWorker(t, n, ex, "w1", 1, holdAll)
	w2 := startWorker(t, n, ex, "w2", 1, ackAll)
	start := time.Now()
	submit(t, NewTasks(n), ex, "slow")
	first := w1.next(t)
	second := w2.next(t)
	if took := time.Since(start); took < 50*time.Millisecond {
		t.Fatalf("redelivered after %v, before the ack timeout", took)
	}
	if second.task.ID != first.task.ID || second.task.Tag == first.task.Tag || second.task.Deliveries != 2 {
		t.Fatalf("first %+v, second %+v", first.task, second.task)
	}
	rev := waitEvent[*tasks.Revoked](t, w1.events)
	if len(rev.Tags) != 1 || rev.Tags[0] != first.task.Tag {
		t.Fatalf("revoked %v", rev.Tags)
	}
	if err := w1.w.Ack(first.task.Tag); !errors.Is(err, tasks.ErrTagRevoked) {
		t.Fatalf("ack after redelivery = %v", err)
	}
	s := waitStats(t, n, ex, func(s tasks.Stats) bool { return s.Acked == 1 })
	if s.Expired != 1 || s.Redelivered != 1 || s.InFlight != 0 || s.RefusedAcks != 0 {
		t.Fatalf("stats %+v", s)
	}
	if w1.w.Outstanding() != 0 {
		t.Fatalf("w1 still holds %d", w1.w.Outstanding())
	}
}

// An ack that reaches the queue after it took the task back (the worker
// had not heard of it yet) is refused: the task is completed once, by the
// worker that has it now.
func TestTasksLateAckRefusedByQueue(t *testing.T) {
	n := node(t, "a@localhost", false)
	ex := exchange.Named("jobs")
	startTasks(t, n, tasks.Spec{Name: "jobs", AckTimeout: 20 * time.Millisecond})
	got := make(chan any, 10)
	fake, err := n.Spawn(ctxT(t), &probe{got: got}) // a worker that speaks the protocol by hand
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Send(ex.PID(n), &taskspb.TaskWorkerJoin{Worker: fake, PrefetchLimit: 1}); err != nil {
		t.Fatal(err)
	}
	waitFor[*taskspb.TaskWorkerJoined](t, got)
	submit(t, NewTasks(n), ex, "a")
	batch := waitFor[*tasks.Batch](t, got)
	tag := batch.Tasks[0].Tag
	waitFor[*taskspb.TaskRevoked](t, got)
	w2 := startWorker(t, n, ex, "w2", 1, holdAll)
	again := w2.next(t)
	if err := n.Send(ex.PID(n), &taskspb.TaskAcks{Worker: fake, Acks: []uint64{tag}}); err != nil {
		t.Fatal(err)
	}
	refused := waitFor[*taskspb.TaskAckRefused](t, got)
	if len(refused.GetTags()) != 1 || refused.GetTags()[0] != tag {
		t.Fatalf("refused %v", refused)
	}
	s := waitStats(t, n, ex, func(s tasks.Stats) bool { return s.RefusedAcks == 1 })
	if s.Acked != 0 || s.InFlight != 1 {
		t.Fatalf("a refused ack changed the queue: %+v", s)
	}
	if err := w2.w.Ack(again.task.Tag); err != nil {
		t.Fatal(err)
	}
	waitStats(t, n, ex, func(s tasks.Stats) bool { return s.Acked == 1 && s.InFlight == 0 })
}

func waitFor[T any](t testing.TB, ch <-chan any) T { t.Helper(); return waitEvent[T](t, ch) }

// A worker killed while it holds tasks gives them all back; another worker
// gets them, marked redelivered.
func TestTasksWorkerKilledRedelivers(t *testing.T) {
	n := node(t, "a@localhost", false)
	ex := exchange.Named("jobs")
	startTasks(t, n, tasks.Spec{Name: "jobs"})
	w1 := startWorker(t, n, ex, "w1", 3, holdAll)
	producer := NewTasks(n)
	for _, m := range []string{"a", "b", "c"} {
		submit(t, producer, ex, m)
	}
	for range 3 {
		w1.next(t)
	}
	w2 := startWorker(t, n, ex, "w2", 3, ackAll)
	n.Exit(w1.pid, actor.ErrKill)
	for _, want := range []string{"a", "b", "c"} {
		d := w2.next(t)
		if str(d.task.Msg) != want || d.task.Deliveries != 2 {
			t.Fatalf("w2 got %s (delivery %d); want %s, second delivery", str(d.task.Msg), d.task.Deliveries, want)
		}
	}
	s := waitStats(t, n, ex, func(s tasks.Stats) bool { return s.Acked == 3 })
	if s.Workers != 1 || s.Redelivered != 3 || s.InFlight != 0 {
		t.Fatalf("stats %+v", s)
	}
}

// A worker that crashes in its handler loses no ack it gave before the
// crash: those tasks are not delivered again, the others are.
func TestTasksWorkerCrashKeepsEarlierAcks(t *testing.T) {
	n := node(t, "a@localhost", false)
	ex := exchange.Named("jobs")
	startTasks(t, n, tasks.Spec{Name: "jobs"})
	producer := NewTasks(n)
	for _, m := range []string{"a", "boom", "c"} {
		submit(t, producer, ex, m)
	}
	joined := make(chan any, 10)
	crashy := NewWorker(ex, 3, func(w *Worker, task *tasks.Task) {
		if str(task.Msg) == "boom" {
			panic("worker exploded")
		}
		_ = w.Ack(task.Tag)
	})
	crashy.OnEvent = func(_ *actor.Process, ev any) { joined <- ev }
	pid, err := n.Spawn(ctxT(t), crashy)
	if err != nil {
		t.Fatal(err)
	}
	down, cancel := n.Watch(pid)
	defer cancel()
	waitEvent[*tasks.WorkerJoined](t, joined)
	select { // it got all three, acked a and crashed on boom
	case <-down:
	case <-time.After(10 * time.Second):
		t.Fatal("the worker did not crash on boom within 10 s")
	}
	w2 := startWorker(t, n, ex, "w2", 3, ackAll)
	var got []string
	for range 2 {
		d := w2.next(t)
		if d.task.Deliveries != 2 {
			t.Fatalf("%s: delivery %d", str(d.task.Msg), d.task.Deliveries)
		}
		got = append(got, str(d.task.Msg))
	}
	if got[0] != "boom" || got[1] != "c" {
		t.Fatalf("redelivered %v; want boom, c (a was acked before the crash)", got)
	}
	waitStats(t, n, ex, func(s tasks.Stats) bool { return s.Acked == 3 && s.InFlight == 0 })
	w2.none(t)
}

// After MaxDeliveries, the task goes to the dead-letter queue with the
// reason; a rejected task goes there at once.
func TestTasksDeadLetterAfterDeliveryLimit(t *testing.T) {
	n := node(t, "a@localhost", false)
	ex, dead := exchange.Named("jobs"), exchange.Named("dead")
	startTasks(t, n, tasks.Spec{Name: "dead"})
	startTasks(t, n, tasks.Spec{Name: "jobs", MaxDeliveries: 3, DeadLetter: dead})
	dw := startWorker(t, n, dead, "dw", 10, ackAll)
	w := startWorker(t, n, ex, "w", 1, nackAll)
	submit(t, NewTasks(n), ex, "poison", WithPriority(4))
	for i := 1; i <= 3; i++ {
		if d := w.next(t); d.task.Deliveries != i {
			t.Fatalf("delivery %d: %+v", i, d.task)
		}
	}
	d := dw.next(t)
	l, ok := d.task.Msg.(*tasks.DeadLetter)
	if !ok {
		t.Fatalf("dead-letter queue got %T", d.task.Msg)
	}
	m, err := l.Message()
	if err != nil || str(m) != "poison" {
		t.Fatalf("dead letter's message %v, %v", m, err)
	}
	if l.GetQueue() != "jobs" || l.GetCause() != tasks.DeadCause_DEAD_CAUSE_DELIVERY_LIMIT ||
		l.GetReason() != "delivered 3 times; last: nacked" || l.GetDeliveries() != 3 || l.GetPriority() != 4 || l.GetId() != 1 {
		t.Fatalf("dead letter %v", l)
	}
	w.none(t)
	s := waitStats(t, n, ex, func(s tasks.Stats) bool { return s.DeadLettered == 1 && s.DeadLetterPending == 0 })
	if s.Nacked != 3 || s.Ready != 0 || s.InFlight != 0 || s.Acked != 0 {
		t.Fatalf("stats %+v", s)
	}

	// A worker rejects a task: dead at once, with its reason.
	rejecter := NewWorker(ex, 1, func(w *Worker, task *tasks.Task) { _ = w.Reject(task.Tag, "cannot parse") })
	n.Exit(w.pid, actor.ErrKill)
	if _, err := n.Spawn(ctxT(t), rejecter); err != nil {
		t.Fatal(err)
	}
	submit(t, NewTasks(n), ex, "garbage")
	l = dw.next(t).task.Msg.(*tasks.DeadLetter)
	if l.GetCause() != tasks.DeadCause_DEAD_CAUSE_REJECTED || l.GetReason() != "cannot parse" || l.GetDeliveries() != 1 {
		t.Fatalf("rejected %v", l)
	}
	waitStats(t, n, ex, func(s tasks.Stats) bool {
		return s.Rejected == 1 && s.DeadLettered == 2 && s.DeadLetterPending == 0
	})
}

// Dead letters wait for a dead-letter queue that is missing (or full),
// and reach it once it is there; without a dead-letter queue they are
// discarded and counted.
func TestTasksDeadLettersWaitForTheirTarget(t *testing.T) {
	n := node(t, "a@localhost", false)
	ex := exchange.Named("jobs")
	startTasks(t, n, tasks.Spec{Name: "jobs", MaxDeliveries: 1, DeadLetter: exchange.Named("later"), AckTimeout: 20 * time.Millisecond})
	w := startWorker(t, n, ex, "w", 1, nackAll)
	submit(t, NewTasks(n), ex, "x")
	w.next(t)
	waitStats(t, n, ex, func(s tasks.Stats) bool { return s.DeadLettered == 1 && s.DeadLetterPending == 1 })
	startTasks(t, n, tasks.Spec{Name: "later"})
	dw := startWorker(t, n, exchange.Named("later"), "dw", 1, ackAll)
	if l := dw.next(t).task.Msg.(*tasks.DeadLetter); l.GetCause() != tasks.DeadCause_DEAD_CAUSE_DELIVERY_LIMIT {
		t.Fatalf("dead letter %v", l)
	}
	waitStats(t, n, ex, func(s tasks.Stats) bool { return s.DeadLetterPending == 0 })

	startTasks(t, n, tasks.Spec{Name: "nodlx", MaxDeliveries: 1})
	w2 := startWorker(t, n, exchange.Named("nodlx"), "w2", 1, nackAll)
	submit(t, NewTasks(n), exchange.Named("nodlx"), "y")
	w2.next(t)
	waitStats(t, n, exchange.Named("nodlx"), func(s tasks.Stats) bool {
		return s.DeadLettered == 1 && s.Discarded == 1 && s.Ready == 0 && s.InFlight == 0
	})
}

// Fairness: tasks go round-robin to workers with room, and no worker ever
// holds more than its prefetch limit (each worker counts what it holds at
// every delivery).
func TestTasksFairnessWithinPrefetch(t *testing.T) {
	n := node(t, "a@localhost", false)
	ex := exchange.Named("jobs")
	startTasks(t, n, tasks.Spec{Name: "jobs"})
	limits := map[string]int{"w1": 1, "w2": 2, "w3": 5}
	var ws []*testWorker
	for _, name := range []string{"w1", "w2", "w3"} {
		ws = append(ws, startWorker(t, n, ex, name, limits[name], holdAll))
	}
	producer := NewTasks(n)
	const total = 200
	for i := range total {
		submit(t, producer, ex, string(rune('a'+i%26)))
	}
	// Each worker first gets exactly its limit, and nothing more while it
	// holds them.
	s := waitStats(t, n, ex, func(s tasks.Stats) bool { return s.InFlight == 8 })
	if s.Ready != total-8 {
		t.Fatalf("stats %+v", s)
	}
	held := map[string][]delivery{}
	for _, w := range ws {
		for range limits[w.name] {
			held[w.name] = append(held[w.name], w.next(t))
		}
		w.none(t)
	}
	// Settle in turns, from outside the workers; count every delivery.
	count := map[string]int{}
	done := 8
	for done < total+8 {
		for _, w := range ws {
			if len(held[w.name]) == 0 {
				continue
			}
			d := held[w.name][0]
			held[w.name] = held[w.name][1:]
			if d.held > limits[w.name] {
				t.Fatalf("%s held %d tasks; its limit is %d", w.name, d.held, limits[w.name])
			}
			if err := w.w.Ack(d.task.Tag); err != nil {
				t.Fatal(err)
			}
			count[w.name]++
			done++
			if done <= total {
				held[w.name] = append(held[w.name], w.next(t))
			}
		}
	}
	if count["w1"]+count["w2"]+count["w3"] != total {
		t.Fatalf("acked %v", count)
	}
	s = waitStats(t, n, ex, func(s tasks.Stats) bool { return s.Acked == total })
	if s.InFlight != 0 || s.Ready != 0 || s.Redelivered != 0 {
		t.Fatalf("stats %+v", s)
	}
}

// Higher priorities first, FIFO within a priority.
func TestTasksPriorities(t *testing.T) {
	n := node(t, "a@localhost", false)
	ex := exchange.Named("jobs")
	startTasks(t, n, tasks.Spec{Name: "jobs", MaxPriority: 5})
	producer := NewTasks(n)
	for _, s := range []struct {
		msg  string
		prio int
	}{{"low1", 0}, {"mid1", 2}, {"high1", 5}, {"low2", 0}, {"mid2", 2}, {"high2", 5}} {
		submit(t, producer, ex, s.msg, WithPriority(s.prio))
	}
	w := startWorker(t, n, ex, "w", 1, ackAll)
	for _, want := range []string{"high1", "high2", "mid1", "mid2", "low1", "low2"} {
		if d := w.next(t); str(d.task.Msg) != want {
			t.Fatalf("got %s; want %s", str(d.task.Msg), want)
		}
	}
	if err := producer.Submit(ctxT(t), ex, wrapperspb.String("x"), WithPriority(6)); !errors.Is(err, tasks.ErrBadPriority) {
		t.Fatalf("priority over the queue's max = %v", err)
	}
	if err := producer.Submit(ctxT(t), ex, wrapperspb.String("x"), WithPriority(-1)); !errors.Is(err, tasks.ErrBadPriority) {
		t.Fatalf("negative priority = %v", err)
	}
}

// Acks of unknown, settled and revoked tags are errors and change nothing.
func TestTasksBadAcks(t *testing.T) {
	n := node(t, "a@localhost", false)
	ex := exchange.Named("jobs")
	startTasks(t, n, tasks.Spec{Name: "jobs"})
	w := startWorker(t, n, ex, "w", 2, holdAll)
	producer := NewTasks(n)
	submit(t, producer, ex, "a")
	submit(t, producer, ex, "b")
	a, b := w.next(t), w.next(t)
	if err := w.w.Ack(a.task.Tag + b.task.Tag); !errors.Is(err, tasks.ErrUnknownTag) {
		t.Fatalf("ack of an unknown tag = %v", err)
	}
	if err := w.w.Ack(a.task.Tag); err != nil {
		t.Fatal(err)
	}
	for _, settle := range []func(uint64) error{w.w.Ack, w.w.Nack, func(tag uint64) error { return w.w.Reject(tag, "x") }} {
		if err := settle(a.task.Tag); !errors.Is(err, tasks.ErrAlreadyAcked) {
			t.Fatalf("second settlement = %v", err)
		}
	}
	s := waitStats(t, n, ex, func(s tasks.Stats) bool { return s.Acked == 1 })
	if s.InFlight != 1 || s.Nacked != 0 || s.Rejected != 0 || s.RefusedAcks != 0 || s.Delivered != 2 {
		t.Fatalf("bad acks changed the queue: %+v", s)
	}
	if w.w.Outstanding() != 1 {
		t.Fatalf("outstanding %d", w.w.Outstanding())
	}
	w.none(t)
}

func TestTasksBadInput(t *testing.T) {
	n := node(t, "a@localhost", false)
	if _, err := tasks.Start(ctxT(t), n, tasks.Spec{Name: "q", MaxPriority: 300}); !errors.Is(err, exchange.ErrInvalidSpec) {
		t.Fatalf("invalid spec = %v", err)
	}
	if _, err := tasks.Start(ctxT(t), n, tasks.Spec{Name: "q", DeadLetter: exchange.Named("q")}); !errors.Is(err, exchange.ErrInvalidSpec) {
		t.Fatalf("dead-lettering to itself = %v", err)
	}
	startTasks(t, n, tasks.Spec{Name: "q"})
	if _, err := tasks.Start(ctxT(t), n, tasks.Spec{Name: "q"}); !errors.Is(err, actor.ErrNameTaken) {
		t.Fatalf("a second queue of one name = %v", err)
	}
	for _, prefetch := range []int{0, -1, tasks.MaxPrefetch + 1} {
		_, err := n.Spawn(ctxT(t), NewWorker(exchange.Named("q"), prefetch, func(*Worker, *tasks.Task) {}))
		if !errors.Is(err, tasks.ErrBadPrefetch) {
			t.Fatalf("prefetch %d = %v", prefetch, err)
		}
	}
	if _, err := n.Spawn(ctxT(t), NewWorker(exchange.Named("q"), 1, nil)); !errors.Is(err, exchange.ErrInvalidSpec) {
		t.Fatalf("no handler = %v", err)
	}
	producer := NewTasks(n)
	if err := producer.Submit(ctxT(t), exchange.Named("nope"), wrapperspb.String("x")); !errors.Is(err, exchange.ErrExchangeNotFound) {
		t.Fatalf("submit to no queue = %v", err)
	}
	if err := producer.Submit(ctxT(t), exchange.Named(""), wrapperspb.String("x")); !errors.Is(err, exchange.ErrExchangeNotFound) {
		t.Fatalf("submit to no name = %v", err)
	}
	startExchange(t, n, exchange.Spec{Name: "rr", Strategy: exchange.RoundRobin})
	if err := producer.Submit(ctxT(t), exchange.Named("rr"), wrapperspb.String("x")); !errors.Is(err, tasks.ErrNotTaskQueue) {
		t.Fatalf("submit to a request-response exchange = %v", err)
	}
	if _, err := tasks.Inspect(ctxT(t), n, exchange.Named("rr")); !errors.Is(err, tasks.ErrNotTaskQueue) {
		t.Fatalf("inspect a request-response exchange = %v", err)
	}
	// A queue ignores a join with a bad limit and acks from strangers.
	got := make(chan any, 10)
	fake, _ := n.Spawn(ctxT(t), &probe{got: got})
	_ = n.Send(exchange.Named("q").PID(n), &taskspb.TaskWorkerJoin{Worker: fake, PrefetchLimit: 0})
	_ = n.Send(exchange.Named("q").PID(n), &taskspb.TaskAcks{Worker: fake, Acks: []uint64{7}})
	if r := waitFor[*taskspb.TaskAckRefused](t, got); len(r.GetTags()) != 1 || r.GetTags()[0] != 7 {
		t.Fatalf("refused %v", r)
	}
	s, err := tasks.Inspect(ctxT(t), n, exchange.Named("q"))
	if err != nil || s.Workers != 0 || s.RefusedAcks != 1 {
		t.Fatalf("stats %+v, %v", s, err)
	}
}

func TestTasksQueueFull(t *testing.T) {
	n := node(t, "a@localhost", false)
	ex := exchange.Named("jobs")
	startTasks(t, n, tasks.Spec{Name: "jobs", MaxQueue: 2})
	producer := NewTasks(n)
	submit(t, producer, ex, "a")
	submit(t, producer, ex, "b")
	if err := producer.Submit(ctxT(t), ex, wrapperspb.String("c")); !errors.Is(err, tasks.ErrQueueFull) {
		t.Fatalf("submit to a full queue = %v", err)
	}
	s, _ := tasks.Inspect(ctxT(t), n, ex)
	if s.Ready != 2 || s.Refused != 1 || s.Submitted != 2 {
		t.Fatalf("stats %+v", s)
	}
	w := startWorker(t, n, ex, "w", 1, ackAll)
	w.next(t)
	submit(t, producer, ex, "c") // room again
}

// A supervised queue that crashes is restarted empty; its workers see it
// go, join the new one, and their tags from the old one are revoked.
func TestTasksWorkersRejoinARestartedQueue(t *testing.T) {
	n := node(t, "a@localhost", false)
	ex := exchange.Named("jobs")
	if _, err := supervisor.Start(ctxT(t), n, supervisor.Spec{Strategy: supervisor.OneForOne,
		Children: []supervisor.ChildSpec{tasks.ChildSpec(tasks.Spec{Name: "jobs"})}}); err != nil {
		t.Fatal(err)
	}
	w := startWorker(t, n, ex, "w", 1, holdAll)
	submit(t, NewTasks(n), ex, "before")
	old := w.next(t)
	n.Exit(n.Whereis(exchange.RegisteredName("jobs")), actor.ErrKill)
	waitEvent[*exchange.ExchangeDown](t, w.events)
	waitEvent[*tasks.WorkerJoined](t, w.events)
	if err := w.w.Ack(old.task.Tag); !errors.Is(err, tasks.ErrTagRevoked) {
		t.Fatalf("ack of a tag of the dead queue = %v", err)
	}
	submit(t, NewTasks(n), ex, "after")
	if d := w.next(t); str(d.task.Msg) != "after" || d.task.Deliveries != 1 {
		t.Fatalf("after the restart: %+v", d.task)
	}
}

// With DeadLetterKey the dead-letter target is a pub-sub exchange: dead
// letters are published with that key, here and across nodes.
func TestTasksDeadLetterToPubSub(t *testing.T) {
	a, b := node(t, "a@localhost", true), node(t, "b@localhost", true)
	if _, err := pubsub.Start(ctxT(t), b, pubsub.Spec{Name: "deaths"}); err != nil {
		t.Fatal(err)
	}
	sub, got := subscriber(t, b)
	if err := Subscribe(ctxT(t), b, exchange.Named("deaths"), "dead.#", "all", sub); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		where string
		n     *actor.Node
		dlx   exchange.Address
	}{{"same node", b, exchange.Named("deaths")}, {"other node", a, exchange.At(b.Address(), "deaths")}} {
		name := "jobs-" + tc.n.Name()
		startTasks(t, tc.n, tasks.Spec{Name: name, MaxDeliveries: 1, DeadLetter: tc.dlx, DeadLetterKey: "dead." + "jobs"})
		ex := exchange.Named(name)
		w := startWorker(t, tc.n, ex, "w", 1, nackAll)
		submit(t, NewTasks(tc.n), ex, "poison")
		w.next(t)
		m := next(t, got)
		l, ok := m.Value.(*tasks.DeadLetter)
		if !ok || m.Key != "dead.jobs" || m.Tag != "all" || l.GetQueue() != name || l.GetReason() != "delivered 1 times; last: nacked" {
			t.Fatalf("%s: published %+v", tc.where, m)
		}
		if v, err := l.Message(); err != nil || str(v) != "poison" {
			t.Fatalf("%s: payload %v, %v", tc.where, v, err)
		}
		waitStats(t, tc.n, ex, func(s tasks.Stats) bool { return s.DeadLettered == 1 && s.DeadLetterPending == 0 })
	}
}
