package patterns

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/cluster"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/exchange/tasks"
	"github.com/switchboard-go/switchboard/internal/childtest"
	"github.com/switchboard-go/switchboard/internal/taskspb"
)

// Workers on two other nodes: round-robin, ack timeout with revocation
// across the network, nack to the other node, dead letters to a queue on
// a third node.
func TestTasksAcrossNodes(t *testing.T) {
	a, b, c := node(t, "a@localhost", true), node(t, "b@localhost", true), node(t, "c@localhost", true)
	startTasks(t, b, tasks.Spec{Name: "jobs", AckTimeout: 50 * time.Millisecond, MaxDeliveries: 3,
		DeadLetter: exchange.At(a.Address(), "dead")})
	startTasks(t, a, tasks.Spec{Name: "dead"})
	ex := exchange.At(b.Address(), "jobs")
	wa := startWorker(t, a, ex, "wa", 2, holdAll)
	wc := startWorker(t, c, ex, "wc", 2, ackAll)
	dw := startWorker(t, a, exchange.Named("dead"), "dw", 5, ackAll)

	producer := NewTasks(c)
	submit(t, producer, ex, "t1")
	submit(t, producer, ex, "t2")
	submit(t, producer, ex, "t3")
	got := map[string]string{}
	for range 3 {
		select {
		case d := <-wa.got:
			got[str(d.task.Msg)] = "a"
		case d := <-wc.got:
			got[str(d.task.Msg)] = "c"
		case <-time.After(10 * time.Second):
			t.Fatal("tasks not delivered across nodes")
		}
	}
	if got["t1"] != "a" || got["t2"] != "c" {
		t.Fatalf("round-robin across nodes: %v", got)
	}
	// wa holds its tasks: at the ack timeout they go to wc, and wa hears it.
	waitEvent[*tasks.Revoked](t, wa.events)
	for range 2 {
		if d := wc.next(t); d.task.Deliveries != 2 || (str(d.task.Msg) != "t1" && str(d.task.Msg) != "t3") {
			t.Fatalf("wc got %s (delivery %d)", str(d.task.Msg), d.task.Deliveries)
		}
	}
	waitStats(t, c, ex, func(s tasks.Stats) bool { return s.Acked == 3 && s.InFlight == 0 })

	// A poison task, nacked on c and timed out on a, is dead-lettered to
	// a's queue after three deliveries.
	startWorker(t, c, ex, "nacker", 1, nackAll)
	c.Exit(wc.pid, actor.ErrKill) // leaves wa (holding) and the nacker
	waitStats(t, b, exchange.Named("jobs"), func(s tasks.Stats) bool { return s.Workers == 2 })
	submit(t, producer, ex, "poison")
	d := dw.next(t)
	l := d.task.Msg.(*tasks.DeadLetter)
	if m, err := l.Message(); err != nil || str(m) != "poison" || l.GetDeliveries() != 3 ||
		l.GetCause() != tasks.DeadCause_DEAD_CAUSE_DELIVERY_LIMIT || !strings.HasPrefix(l.GetReason(), "delivered 3 times; last: ") {
		t.Fatalf("dead letter %v (%v)", l, err)
	}
}

// A worker node that is a separate OS process, killed with SIGKILL while
// it holds tasks: the queue takes them back at once and another worker
// gets them.
func TestTasksAcrossProcessesWorkerNodeKilled(t *testing.T) {
	b := node(t, "b@localhost", true)
	startTasks(t, b, tasks.Spec{Name: "jobs", AckTimeout: time.Hour}) // no timeout: the death brings them back
	ex := exchange.Named("jobs")
	child := startTaskChild(t, b.Address(), "jobs", 5)
	producer := NewTasks(b)
	for i := range 5 {
		submit(t, producer, ex, fmt.Sprintf("t%d", i))
	}
	for range 5 {
		select {
		case l := <-child.Lines():
			if !strings.HasPrefix(l, "GOT ") {
				t.Fatalf("child said %q", l)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the child got no task")
		}
	}
	s, _ := tasks.Inspect(ctxT(t), b, ex)
	if s.InFlight != 5 || s.Workers != 1 {
		t.Fatalf("stats %+v", s)
	}
	local := startWorker(t, b, ex, "local", 10, ackAll)
	local.none(t)
	if err := child.Cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for i := range 5 {
		d := local.next(t)
		if str(d.task.Msg) != fmt.Sprintf("t%d", i) || d.task.Deliveries != 2 {
			t.Fatalf("after the kill: %s (delivery %d)", str(d.task.Msg), d.task.Deliveries)
		}
	}
	t.Logf("tasks back %v after SIGKILL", time.Since(start))
	s = waitStats(t, b, ex, func(s tasks.Stats) bool { return s.Acked == 5 })
	if s.Workers != 1 || s.Redelivered != 5 || s.InFlight != 0 {
		t.Fatalf("stats %+v", s)
	}
}

const taskChildEnv = "SWITCHBOARD_TASKS_CHILD"

// The child of TestTasksAcrossProcessesWorkerNodeKilled runs from init, so
// that the package's TestMain stays as it is.
func init() {
	if v := os.Getenv(taskChildEnv); v != "" {
		runTaskChild(v)
		os.Exit(0)
	}
}

func startTaskChild(t *testing.T, queueNode, queue string, prefetch int) *childtest.Child {
	t.Helper()
	c := childtest.Start(t, "worker", fmt.Sprintf("%s=%s,%s,%d", taskChildEnv, queueNode, queue, prefetch))
	c.Expect(t, 20*time.Second, "READY")
	return c
}

// runTaskChild runs a worker node that holds every task it gets and says
// so on stdout; it lives until its stdin closes or it is killed.
func runTaskChild(v string) {
	parts := strings.Split(v, ",")
	prefetch, _ := strconv.Atoi(parts[2])
	serveChild(func(joined func()) actor.Server {
		w := NewWorker(exchange.At(parts[0], parts[1]), prefetch, func(_ *Worker, t *tasks.Task) {
			fmt.Println("GOT", str(t.Msg))
		})
		w.OnEvent = func(_ *actor.Process, ev any) {
			if _, ok := ev.(*tasks.WorkerJoined); ok {
				joined()
			}
		}
		return w
	})
}

// In a cluster, producers and workers find the queue by name alone,
// through the directory.
func TestTasksInClusterByName(t *testing.T) {
	a, b := node(t, "a@localhost", true), node(t, "b@localhost", true)
	join := func(n *actor.Node, seeds ...string) {
		c, err := cluster.Join(ctxT(t), n, cluster.Config{Provider: cluster.Embedded(cluster.EmbeddedConfig{Seeds: seeds}), Logger: quiet()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = c.Leave(ctx)
		})
	}
	join(a)
	join(b, a.Address())
	startTasks(t, a, tasks.Spec{Name: "jobs"})
	ex := exchange.Named("jobs")
	w := startWorker(t, b, ex, "wb", 4, ackAll) // joins once the directory on b knows the queue
	producer := NewTasks(b)
	for i := range 10 {
		submit(t, producer, ex, fmt.Sprintf("t%d", i))
	}
	for i := range 10 {
		if d := w.next(t); str(d.task.Msg) != fmt.Sprintf("t%d", i) {
			t.Fatalf("got %s", str(d.task.Msg))
		}
	}
	s := waitStats(t, b, ex, func(s tasks.Stats) bool { return s.Acked == 10 })
	if s.Queue != "jobs" || s.Workers != 1 {
		t.Fatalf("stats %+v", s)
	}
}

// Errors across nodes keep their identity.
func TestTasksAcrossNodesBadInput(t *testing.T) {
	a, b := node(t, "a@localhost", true), node(t, "b@localhost", true)
	startTasks(t, b, tasks.Spec{Name: "jobs", MaxQueue: 1, MaxPayload: 64, MaxPriority: 2})
	ex := exchange.At(b.Address(), "jobs")
	producer := NewTasks(a)
	if err := producer.Submit(ctxT(t), ex, "not a protobuf message"); !errors.Is(err, actor.ErrNotSerializable) {
		t.Fatalf("non-protobuf across nodes = %v", err)
	}
	if err := producer.Submit(ctxT(t), ex, wrapperspb.String(strings.Repeat("x", 100))); !errors.Is(err, exchange.ErrTooLarge) {
		t.Fatalf("over the queue's limit = %v", err)
	}
	small := &Tasks{n: a, MaxPayload: 8}
	if err := small.Submit(ctxT(t), ex, wrapperspb.String("0123456789")); !errors.Is(err, exchange.ErrTooLarge) {
		t.Fatalf("over the producer's limit = %v", err)
	}
	if err := producer.Submit(ctxT(t), ex, wrapperspb.String("x"), WithPriority(3)); !errors.Is(err, tasks.ErrBadPriority) {
		t.Fatalf("bad priority across nodes = %v", err)
	}
	if err := producer.Submit(ctxT(t), exchange.At(b.Address(), "nope"), wrapperspb.String("x")); !errors.Is(err, exchange.ErrExchangeNotFound) {
		t.Fatalf("no queue across nodes = %v", err)
	}
	submit(t, producer, ex, "one")
	if err := producer.Submit(ctxT(t), ex, wrapperspb.String("two")); !errors.Is(err, tasks.ErrQueueFull) {
		t.Fatalf("full queue across nodes = %v", err)
	}
	// A payload whose type the queue's node does not know.
	_, err := a.Call(ctxT(t), ex.PID(a), &taskspb.TaskSubmit{Payload: &anypb.Any{TypeUrl: "type.googleapis.com/nobody.Knows", Value: []byte{1}}})
	if !errors.Is(err, exchange.ErrBadRequest) {
		t.Fatalf("unknown payload type = %v", err)
	}
	s, err := tasks.Inspect(ctxT(t), a, ex)
	if err != nil || s.Submitted != 1 || s.Refused != 1 || s.Ready != 1 {
		t.Fatalf("stats %+v, %v", s, err)
	}
}
