package actor

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// Every worker blocked in a handler: a run queued behind them still runs,
// started by the watchdog.
func TestDispatcherWatchdogRunsWhatWaitsBehindBlockedWorkers(t *testing.T) {
	d := newDispatcher()
	d.maxActive, d.maxIdle = 2, 2
	release := make(chan struct{})
	entered := make(chan struct{}, d.maxActive)
	for range d.maxActive {
		d.Schedule(func() { entered <- struct{}{}; <-release })
	}
	for range d.maxActive {
		<-entered
	}
	ran := make(chan struct{})
	d.Schedule(func() { close(ran) })
	select {
	case <-ran:
	case <-time.After(10 * time.Second):
		t.Fatal("a run queued behind blocked workers did not run within 10s")
	}
	d.close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := d.wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("wait with workers still blocked = %v, want %v", err, context.DeadlineExceeded)
	}
	close(release)
	if err := d.wait(ctxT(t)); err != nil {
		t.Fatalf("wait after the blocked workers returned: %v", err)
	}
}

// A chain of nested Calls three times as deep as the dispatcher has busy
// workers: each handler blocks its worker until the next answers.
func TestDispatcherNestedCallsDeeperThanWorkers(t *testing.T) {
	n := newNode(t, Config{})
	depth := 3 * n.disp.maxActive
	next := (*PID)(nil)
	for range depth {
		to := next
		pid, err := n.Spawn(ctxT(t), &fn{call: func(p *Process, msg any) (any, error) {
			if to == nil {
				return msg, nil
			}
			return p.Call(ctxT(t), to, msg)
		}})
		if err != nil {
			t.Fatal(err)
		}
		next = pid
	}
	v, err := n.Call(ctxT(t), next, "deep")
	if err != nil || v != "deep" {
		t.Fatalf("call through %d nested calls = %v, %v; want deep", depth, v, err)
	}
}

// A burst that wakes thousands of processes at once, from one process's
// handler (as an exchange's fan-out), is run by a few workers: far fewer
// goroutines start than processes are woken.
func TestDispatcherBurstStartsFewGoroutines(t *testing.T) {
	const procs = 5000
	n := newNode(t, Config{})
	var handled atomic.Int64
	done := make(chan struct{}, 1)
	want := atomic.Int64{}
	subs := make([]*PID, procs)
	for i := range subs {
		pid, err := n.Spawn(ctxT(t), &fn{info: func(*Process, any) {
			if handled.Add(1) == want.Load() {
				done <- struct{}{}
			}
		}})
		if err != nil {
			t.Fatal(err)
		}
		subs[i] = pid
	}
	burster, err := n.Spawn(ctxT(t), &fn{})
	if err != nil {
		t.Fatal(err)
	}
	burst := func() {
		t.Helper()
		want.Add(procs)
		if err := n.Cast(burster, func(p *Process) {
			for _, s := range subs {
				p.Send(s, "tick")
			}
		}); err != nil {
			t.Fatal(err)
		}
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatalf("%d of %d deliveries handled within 30s", handled.Load(), want.Load())
		}
	}
	burst() // the workers a first burst leaves parked serve the next
	before := goroutinesCreated()
	burst()
	started := goroutinesCreated() - before
	t.Logf("%d goroutines started for a burst to %d processes", started, procs)
	if started > procs/10 {
		t.Fatalf("a burst to %d processes started %d goroutines, want at most %d", procs, started, procs/10)
	}
}

func TestRunQueueFirstInFirstOut(t *testing.T) {
	var q runQueue
	var ticks []uint64 // the model: the queued runs' ticks, oldest first
	next, out := 0, 0
	for round := range 5 {
		for range 100 * (round + 1) {
			v := next
			q.push(func() {
				if v != out {
					t.Fatalf("popped run %d, want %d", v, out)
				}
				out++
			}, uint64(round))
			ticks = append(ticks, uint64(round))
			next++
		}
		if got, want := q.waited(9), 9-ticks[0]; got != want {
			t.Fatalf("waited = %d ticks, want %d", got, want)
		}
		for range 50 {
			q.pop()()
			ticks = ticks[1:]
		}
	}
	for fn := q.pop(); fn != nil; fn = q.pop() {
		fn()
	}
	if out != next || q.len() != 0 || q.waited(9) != 0 {
		t.Fatalf("ran %d of %d, %d left", out, next, q.len())
	}
}
