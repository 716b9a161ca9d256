package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// The durable-task shapes (issue 15): producers submit tasks to a durable
// queue and wait for each task's confirm, keeping a window of
// submissions in flight (Switchboard's SubmitAsync, RabbitMQ's publisher
// confirms, JetStream's PublishAsync); workers consume and ack. A run
// counts confirmed tasks/s (first submission to last confirm) and
// completed tasks/s (first submission to last ack).

const (
	// DurableOne: the queue and its store on one node (Switchboard:
	// Spec.Dir; RabbitMQ: a quorum queue on one broker; NATS: a file
	// stream, R1, on one nats-server -js).
	DurableOne Topology = "durable, one node"
	// DurableReplicated: the queue replicated to two standbys
	// (Switchboard: Spec.Replica, three nodes, hashicorp/raft; NATS: R3 on
	// three nats-servers; RabbitMQ: see docs/benchmarks.md).
	DurableReplicated Topology = "durable, replicated"
)

// DurableTopologies in the order they run.
var DurableTopologies = []Topology{DurableOne, DurableReplicated}

func (t Topology) durable() bool { return t == DurableOne || t == DurableReplicated }

// taskSize is every task's payload: 128 bytes, as the go test benchmarks
// of durable queues (patterns' BenchmarkDurableTasks, exchange/tasks'
// BenchmarkReplicatedTasks).
const taskSize = 128

// DurableShapes are the durable runs: 100,000 tasks from 4 producers with
// 256 submissions in flight each, 4 workers with prefetch 100.
func DurableShapes() []Shape {
	return []Shape{{Cycles: 100000, Callers: 4, Window: 256, Workers: 4, Prefetch: 100}}
}

// A durableTarget is a durable queue ready to be used, in the client's
// process, with its workers started (they ack every delivery and tell
// acked).
type durableTarget interface {
	newProducer() (producer, error)
	close()
}

// A producer submits tasks; a submission's confirm comes later.
type producer interface {
	submit(ctx context.Context, body []byte) (confirm, error)
	close()
}

type confirm interface {
	// wait returns nil once the task is confirmed (stored, replicated).
	wait(ctx context.Context) error
}

// ackCounter counts the workers' acks; a shape waits on it for its last
// task.
type ackCounter struct {
	n    atomic.Int64
	mu   sync.Mutex
	goal int64
	done chan struct{}
}

func (c *ackCounter) acked() {
	n := c.n.Add(1)
	c.mu.Lock()
	if c.done != nil && n >= c.goal {
		close(c.done)
		c.done = nil
	}
	c.mu.Unlock()
}

// expect returns a channel closed once more acks came in than now.
func (c *ackCounter) expect(more int) <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.goal = c.n.Load() + int64(more)
	ch := make(chan struct{})
	if c.n.Load() >= c.goal {
		close(ch)
	} else {
		c.done = ch
	}
	return ch
}

// left is how many acks expect still waits for.
func (c *ackCounter) left() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return int(max(0, c.goal-c.n.Load()))
}

// driveDurable runs one durable shape against t: s.Callers producers
// submit s.Cycles tasks, each holding up to s.Window unconfirmed; every
// confirm is timed from its submission.
func driveDurable(ctx context.Context, t durableTarget, acks *ackCounter, s Shape, timeout time.Duration) Outcome {
	out := Outcome{Shape: s}
	if s.Callers < 1 || s.Cycles < s.Callers || s.Window < 1 {
		out.Err = fmt.Sprintf("bad shape: %d tasks over %d producers, window %d", s.Cycles, s.Callers, s.Window)
		return out
	}
	producers, err := openAll(s.Callers, t.newProducer)
	defer closeAll(producers)
	if err != nil {
		out.Err = "opening a producer: " + err.Error()
		return out
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	body := make([]byte, taskSize)
	allAcked := acks.expect(s.Cycles)
	lat := make([][]time.Duration, s.Callers)
	first := &firstError{cancel: cancel}
	fail := first.set
	var wg sync.WaitGroup
	type pending struct {
		c  confirm
		t0 time.Time
	}
	start := time.Now()
	for i, p := range producers {
		n := s.share(i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := make([]time.Duration, 0, n)
			defer func() { lat[i] = l }()
			window := make([]pending, 0, s.Window)
			settle := func(w pending) bool {
				if err := w.c.wait(ctx); err != nil {
					fail(err)
					return false
				}
				l = append(l, time.Since(w.t0))
				return true
			}
			for range n {
				t0 := time.Now()
				c, err := p.submit(ctx, body)
				if err != nil {
					fail(err)
					return
				}
				if window = append(window, pending{c, t0}); len(window) == s.Window { // a sliding window: wait for the oldest
					if !settle(window[0]) {
						return
					}
					window = append(window[:0], window[1:]...)
				}
			}
			for _, w := range window {
				if !settle(w) {
					return
				}
			}
		}()
	}
	wg.Wait()
	out.Elapsed = time.Since(start)
	all := make([]time.Duration, 0, s.Cycles)
	for _, l := range lat {
		all = append(all, l...)
	}
	out.Done = len(all)
	out.Latency = percentiles(all)
	if first.get() == nil {
		select {
		case <-allAcked:
			out.Completed, out.CompletedIn = s.Cycles, time.Since(start)
		case <-ctx.Done():
			first.set(fmt.Errorf("workers acked %d of %d tasks: %w", s.Cycles-acks.left(), s.Cycles, ctx.Err()))
		}
	}
	out.Err = first.report(ctx, timeout, fmt.Sprintf("%d of %d confirmed", out.Done, s.Cycles))
	return out
}
