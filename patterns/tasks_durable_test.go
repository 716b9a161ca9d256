package patterns

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/exchange/tasks"
)

// A durable queue confirms a task once it is in its log; stopped and
// started again on the same directory (on another node, even), it delivers
// every confirmed task that was not acked, as redelivered, and none that
// was; the keys of its window survive too: a retry of an acked task's key
// is confirmed and not queued.
func TestDurableTasksSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	ex := exchange.Named("jobs")
	spec := tasks.Spec{Name: "jobs", Dir: dir}
	n1 := node(t, "a@localhost", false)
	startTasks(t, n1, spec)
	producer := NewTasks(n1)
	var confirms []*Confirm
	for i := range 100 {
		key := fmt.Sprint("k", i)
		if i%2 == 0 {
			submit(t, producer, ex, key, WithKey(key))
			continue
		}
		c, err := producer.SubmitAsync(ctxT(t), ex, wrapperspb.String(key), WithKey(key))
		if err != nil {
			t.Fatal(err)
		}
		confirms = append(confirms, c)
	}
	for _, c := range confirms {
		if err := c.Wait(); err != nil {
			t.Fatal(err)
		}
	}
	w := startWorker(t, n1, ex, "w1", 40, holdAll)
	acked := map[string]bool{}
	for range 40 {
		d := w.next(t)
		if err := w.w.Ack(d.task.Tag); err != nil {
			t.Fatal(err)
		}
		acked[str(d.task.Msg)] = true
	}
	s := waitStats(t, n1, ex, func(s tasks.Stats) bool { return s.Acked == 40 })
	if s.Stored != 100 || s.Syncs == 0 || s.Syncs > s.Stored+1 {
		t.Fatalf("stats %+v: want 100 stored, in at most one sync each (and the start's snapshot)", s)
	}
	stopNode(t, n1)

	n2 := node(t, "b@localhost", false)
	startTasks(t, n2, spec)
	s = waitStats(t, n2, ex, func(tasks.Stats) bool { return true })
	if s.Restored != 60 || s.Ready != 60 {
		t.Fatalf("after the restart: %+v; want the 60 unacked tasks back", s)
	}
	// The keys are remembered: resubmitting all of them queues nothing.
	p2 := NewTasks(n2)
	for i := range 100 {
		key := fmt.Sprint("k", i)
		submit(t, p2, ex, key, WithKey(key))
	}
	w2 := startWorker(t, n2, ex, "w2", 100, ackAll)
	got := map[string]bool{}
	for range 60 {
		d := w2.next(t)
		k := str(d.task.Msg)
		if d.task.Key != k {
			t.Fatalf("after the restart task %s has key %q", k, d.task.Key)
		}
		if acked[k] || got[k] || !d.task.Redelivered() {
			t.Fatalf("after the restart got %s (acked before: %v, twice: %v, redelivered: %v)", k, acked[k], got[k], d.task.Redelivered())
		}
		got[k] = true
	}
	s = waitStats(t, n2, ex, func(s tasks.Stats) bool { return s.Acked == 60 })
	if s.Duplicates != 100 || s.Submitted != 0 {
		t.Fatalf("stats %+v; want 100 duplicates", s)
	}
	w2.none(t)
}

// A key seen within the window is confirmed and not queued, in a queue
// that is not durable too; once the window has passed, the key queues a
// task again.
func TestTaskKeysDeduplicateWithinWindow(t *testing.T) {
	n := node(t, "a@localhost", false)
	ex := exchange.Named("jobs")
	const window = 200 * time.Millisecond
	startTasks(t, n, tasks.Spec{Name: "jobs", DedupWindow: window})
	producer := NewTasks(n)
	first := time.Now()
	submit(t, producer, ex, "once", WithKey("k"))
	submit(t, producer, ex, "twice", WithKey("k"))
	submit(t, producer, ex, "other", WithKey("k2"))
	s := waitStats(t, n, ex, func(tasks.Stats) bool { return true })
	if time.Since(first) < window && (s.Ready != 2 || s.Duplicates != 1) {
		t.Fatalf("stats %+v; want 2 ready, 1 duplicate", s)
	}
	for time.Since(first) <= window { // the window is wall-clock time: let it pass
		time.Sleep(window / 10)
	}
	submit(t, producer, ex, "again", WithKey("k"))
	s = waitStats(t, n, ex, func(tasks.Stats) bool { return true })
	if s.Ready != 3 {
		t.Fatalf("stats %+v; want the key to queue a task again after its window", s)
	}
	long := string(make([]byte, tasks.MaxKeyLen+1))
	if err := producer.Submit(ctxT(t), ex, wrapperspb.String("x"), WithKey(long)); !errors.Is(err, tasks.ErrBadKey) {
		t.Fatalf("a key too long: %v; want ErrBadKey", err)
	}
}

// A durable queue stores protobuf payloads only.
func TestDurableTasksRefuseWhatTheyCannotStore(t *testing.T) {
	n := node(t, "a@localhost", false)
	ex := exchange.Named("jobs")
	startTasks(t, n, tasks.Spec{Name: "jobs", Dir: t.TempDir()})
	if err := NewTasks(n).Submit(ctxT(t), ex, "a Go string"); !errors.Is(err, actor.ErrNotSerializable) {
		t.Fatalf("a non-protobuf task: %v; want ErrNotSerializable", err)
	}
}

func stopNode(t testing.TB, n *actor.Node) {
	t.Helper()
	if err := n.Stop(ctxT(t)); err != nil {
		t.Fatal(err)
	}
}

// A durable queue's dead task is done in its log only once its
// dead-letter target has it: a task rejected while the target is missing
// waits for it across a restart (delivered again, at least once); a task
// discarded for want of a target, or accepted by it, is gone.
func TestDurableDeadLettersWaitForTheirTarget(t *testing.T) {
	ex := exchange.Named("jobs")
	for _, target := range []string{"", "missing", "up"} {
		t.Run("target="+target, func(t *testing.T) {
			dir := t.TempDir()
			spec := tasks.Spec{Name: "jobs", Dir: dir}
			if target != "" {
				spec.DeadLetter = exchange.Named(target) // not started: the letter waits
			}
			n1 := node(t, "a@localhost", false)
			if target == "up" {
				startTasks(t, n1, tasks.Spec{Name: "up"})
			}
			startTasks(t, n1, spec)
			submit(t, NewTasks(n1), ex, "poison", WithKey("p"))
			w := startWorker(t, n1, ex, "w1", 1, holdAll)
			d := w.next(t)
			if err := w.w.Reject(d.task.Tag, "cannot"); err != nil {
				t.Fatal(err)
			}
			waitStats(t, n1, ex, func(s tasks.Stats) bool { return s.DeadLettered == 1 && (target != "up" || s.DeadLetterPending == 0) })
			stopNode(t, n1)

			n2 := node(t, "b@localhost", false)
			startTasks(t, n2, spec)
			s := waitStats(t, n2, ex, func(tasks.Stats) bool { return true })
			want := 0
			if target == "missing" {
				want = 1
			}
			if s.Restored != uint64(want) {
				t.Fatalf("restored %d; want %d", s.Restored, want)
			}
		})
	}
}
