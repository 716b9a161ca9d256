package patterns

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/exchange/tasks"
	"github.com/switchboard-go/switchboard/internal/childtest"
	"github.com/switchboard-go/switchboard/internal/tasktest"
)

// durableChildEnv starts the test binary as a node holding a durable task
// queue: "dir,listen address".
const durableChildEnv = "SWITCHBOARD_DURABLE_QUEUE_CHILD"

// durableTasksEnv sets the number of tasks of TestDurableTasksSurviveKill9
// (default 20,000 in CI; the acceptance run is 100,000).
const durableTasksEnv = "SWITCHBOARD_DURABLE_TASKS"

func init() {
	if v := os.Getenv(durableChildEnv); v != "" {
		runDurableQueueChild(v)
		os.Exit(0)
	}
}

// runDurableQueueChild runs a node at a fixed address with the durable
// queue "jobs" on dir; it lives until its stdin closes or it is killed.
func runDurableQueueChild(v string) {
	dir, listen, _ := strings.Cut(v, ",")
	n, err := actor.Start(actor.Config{Name: "queue@localhost", Listen: listen, Logger: quiet()})
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(1)
	}
	if _, err := tasks.Start(context.Background(), n, tasks.Spec{Name: "jobs", Dir: dir, MaxQueue: tasks.Unlimited,
		AckTimeout: 10 * time.Second, DedupWindow: 10 * time.Minute}); err != nil {
		fmt.Println("ERR", err)
		os.Exit(1)
	}
	fmt.Println("READY")
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
	os.Exit(0)
}

// The acceptance run of durable queues on one node (issue 15): a producer
// submits keyed tasks with confirms (SubmitAsync, a window of 256) to a
// durable queue in another OS process, two workers record each key in
// their own file and ack; the queue's process is killed with SIGKILL
// mid-run and started again on the same directory. The producer
// resubmits, with the same key, every task whose confirm it did not get.
// From the workers' files: every confirmed task was processed, each key
// made one task (the window survived the kill), and no effect was applied
// twice; redeliveries are counted apart.
func TestDurableTasksSurviveKill9(t *testing.T) {
	total := 20_000
	if v, err := strconv.Atoi(os.Getenv(durableTasksEnv)); err == nil && v > 0 {
		total = v
	}
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	listen := l.Addr().String()
	l.Close()
	startQueue := func() *childtest.Child {
		c := childtest.Start(t, "queue", fmt.Sprintf("%s=%s,%s", durableChildEnv, filepath.Join(dir, "queue"), listen))
		c.Expect(t, 30*time.Second, "READY")
		return c
	}
	queue := startQueue()
	n := node(t, "test@localhost", true)
	ex := exchange.At(listen, "jobs")

	eff := tasktest.NewEffects()
	type line struct{ key, id, what string }
	var files []string
	// Worker 0 works from the start, slower than the producer (1 ms a
	// task), so that at the kill the queue holds a backlog and tasks in
	// flight; worker 1 joins after the restart.
	startWorker := func(i int, work time.Duration) {
		path := filepath.Join(dir, fmt.Sprintf("worker%d.log", i))
		files = append(files, path)
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		w := NewWorker(ex, 100, func(w *Worker, task *tasks.Task) {
			key := task.Key // the producer's, across the queue's restart and between nodes
			if key != str(task.Msg) {
				t.Errorf("task %d: key %q, payload %q", task.ID, key, str(task.Msg))
			}
			applied := eff.Apply(key)
			time.Sleep(work)                                                               // the work
			if _, err := f.WriteString(tasktest.Line(key, task.ID, applied)); err != nil { // recorded before the ack
				t.Error(err)
			}
			_ = w.Ack(task.Tag)
		})
		if _, err := n.Spawn(ctxT(t), w); err != nil {
			t.Fatal(err)
		}
	}
	startWorker(0, time.Millisecond)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	producer := NewTasks(n)
	confirmed := make(map[string]bool, total)
	var retry []string
	var lastConfirm time.Time
	var outage time.Duration
	confirm := func(key string, err error) {
		if err != nil {
			retry = append(retry, key)
			return
		}
		now := time.Now()
		if !lastConfirm.IsZero() {
			outage = max(outage, now.Sub(lastConfirm))
		}
		lastConfirm = now
		confirmed[key] = true
	}
	type sent struct {
		key string
		c   *Confirm
	}
	var window []sent
	killAt := total / 3
	killed := false
	start := time.Now()
	for i := range total {
		key := fmt.Sprintf("k%07d", i)
		if !killed && len(confirmed) >= killAt {
			queue.Kill() // SIGKILL, with submissions in flight
			killed = true
			t.Logf("killed the queue's process after %d confirms", len(confirmed))
			queue = startQueue() // on the same directory and address
			startWorker(1, 0)
		}
		c, err := producer.SubmitAsync(ctx, ex, wrapperspb.String(key), WithKey(key))
		if err != nil {
			confirm(key, err)
			continue
		}
		if window = append(window, sent{key, c}); len(window) == 256 {
			confirm(window[0].key, window[0].c.Wait())
			window = append(window[:0], window[1:]...)
		}
	}
	for _, s := range window {
		confirm(s.key, s.c.Wait())
	}
	for len(retry) > 0 { // every task whose confirm was lost, again with its key
		key := retry[0]
		retry = retry[1:]
		sctx, scancel := context.WithTimeout(ctx, 2*time.Second)
		err := producer.Submit(sctx, ex, wrapperspb.String(key), WithKey(key))
		scancel()
		if err != nil && ctx.Err() == nil {
			if !errors.Is(err, actor.ErrTimeout) && !errors.Is(err, actor.ErrNodeDown) && !errors.Is(err, exchange.ErrExchangeNotFound) &&
				!errors.Is(err, actor.ErrNoProcess) && !strings.Contains(err.Error(), "connect") {
				t.Logf("resubmit %s: %v", key, err)
			}
			time.Sleep(10 * time.Millisecond) // the queue is still away: pace the retries
		}
		confirm(key, err)
		if ctx.Err() != nil {
			t.Fatalf("%d tasks never confirmed", len(retry))
		}
	}
	if !killed {
		t.Fatal("the queue was never killed")
	}

	// Every confirmed key is processed: wait for the workers' files to
	// show them all.
	tl, err := tasktest.WaitProcessed(files, confirmed, 2*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	processed, redelivered, duplicateEffects, twoTasks := tl.Processed, tl.Redelivered, tl.DuplicateEffects, tl.TwoTasks
	elapsed := time.Since(start)
	st, err := tasks.Inspect(ctx, n, ex)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("durable tasks, kill -9 of the queue's node: confirmed %d, processed %d, redelivered %d, duplicate effects %d, keys queued twice %d, restored after the kill %d, duplicates refused %d, time without service %v, run %v (%.0f tasks/s)\n",
		len(confirmed), processed, redelivered, duplicateEffects, twoTasks, st.Restored, st.Duplicates, outage.Round(time.Millisecond), elapsed.Round(time.Millisecond), float64(total)/elapsed.Seconds())
	if st.Restored == 0 {
		t.Fatal("the restarted queue restored nothing: the kill came too late to test anything")
	}
	if len(confirmed) != total || processed != total || duplicateEffects != 0 || twoTasks != 0 {
		t.Fatalf("confirmed %d, processed %d of %d, %d duplicate effects, %d keys queued twice", len(confirmed), processed, total, duplicateEffects, twoTasks)
	}
	queue.Stop(t, 10*time.Second)
}
