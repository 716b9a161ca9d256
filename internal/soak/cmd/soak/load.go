package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/exchange/tasks"
	"github.com/switchboard-go/switchboard/internal/soak/history"
	"github.com/switchboard-go/switchboard/patterns"
)

// load is the driver's steady mixed load: requests, keyed requests,
// publishes, streams and keyed durable tasks to two queues, each with a
// deadline, each recorded from invocation to outcome; and the backlog
// queue's only worker, slower than its load until the drain.
type load struct {
	n         *actor.Node
	r         *run
	client    *patterns.Client
	tasks     *patterns.Tasks
	done      chan struct{}
	wg        sync.WaitGroup
	seq       atomic.Uint64
	untyped   atomic.Int64
	skew      atomic.Int64 // nanoseconds the clients' deadlines come early (a skew fault)
	mu        sync.Mutex
	retry     map[string][]string // by queue: task keys whose confirm did not come
	fast      atomic.Bool         // the backlog's worker at full speed (the drain)
	keyedN    int                 // keyed requests sent
	lastKeyed string              // the key of the last keyed request answered
}

// backlogDelay is what the backlog's worker spends on a task during the
// run: with its prefetch of 2, 10 tasks a second against 25 submitted.
const backlogDelay = 200 * time.Millisecond

func newLoad(n *actor.Node, r *run) *load {
	return &load{n: n, r: r, client: patterns.NewClient(n), tasks: patterns.NewTasks(n), done: make(chan struct{}), retry: map[string][]string{}}
}

// at is the exchange ex on the node holding it.
func (l *load) at(ex string) exchange.Address { return exchange.At(l.r.listen[holder[ex]], ex) }

func (l *load) start(ctx context.Context) error {
	// The backlog's worker is the driver's: its effects are recorded as
	// the nodes' workers record theirs, idempotent by key.
	effects := filepath.Join(l.r.dir, "effects")
	w := patterns.NewWorker(l.at(exBacklog), 2, func(w *patterns.Worker, t *tasks.Task) {
		if !l.fast.Load() {
			time.Sleep(backlogDelay) // the consumer's slow work
		}
		f, err := os.OpenFile(filepath.Join(effects, t.Key), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		switch {
		case err == nil:
			f.Close()
			l.r.h.add(history.Record{Type: history.TypeEffect, Kind: history.OpTask, Key: t.Key, Node: driverName, Invoke: time.Now()})
		case !errors.Is(err, os.ErrExist):
			_ = w.Nack(t.Tag)
			return
		}
		_ = w.Ack(t.Tag)
	})
	if _, err := l.n.Spawn(ctx, w); err != nil {
		return err
	}
	l.every(20*time.Millisecond, 2*time.Second, history.OpRequest, exEcho, l.request)
	l.every(40*time.Millisecond, 3*time.Second, history.OpKeyed, exKeyed, l.keyed)
	l.every(40*time.Millisecond, 2*time.Second, history.OpPublish, exEvents, l.publish)
	l.every(50*time.Millisecond, 3*time.Second, history.OpStream, exStream, l.stream)
	l.every(20*time.Millisecond, 5*time.Second, history.OpTask, exJobs, l.task(exJobs))
	l.every(40*time.Millisecond, 5*time.Second, history.OpTask, exBacklog, l.task(exBacklog))
	return nil
}

func (l *load) stop() {
	close(l.done)
	l.wg.Wait()
}

// every runs op every period, each with its own deadline, up to 32 in
// flight, recording each.
func (l *load) every(period, timeout time.Duration, kind, ex string, op func(ctx context.Context, id string, rec *history.Record) error) {
	sem := make(chan struct{}, 32)
	l.wg.Go(func() {
		t := time.NewTicker(period)
		defer t.Stop()
		var inner sync.WaitGroup
		defer inner.Wait()
		for {
			select {
			case <-l.done:
				return
			case <-t.C:
			}
			select {
			case sem <- struct{}{}:
			default:
				continue // the window is full: the load stays bounded
			}
			inner.Go(func() {
				defer func() { <-sem }()
				id := fmt.Sprintf("%s-%d", kind, l.seq.Add(1))
				inv := time.Now()
				deadline := inv.Add(timeout - time.Duration(l.skew.Load()))
				ctx, cancel := context.WithDeadline(context.Background(), deadline)
				defer cancel()
				rec := history.Record{Type: history.TypeOp, ID: id, Kind: kind, Client: "driver", Node: driverName,
					Exchange: ex, Nodes: []string{l.r.names[holder[ex]]}, Invoke: inv, Deadline: deadline}
				err := op(ctx, id, &rec)
				rec.Complete = time.Now()
				rec.Outcome = history.OutcomeOK
				if err != nil {
					rec.Outcome, rec.Err = history.OutcomeError, typed(err)
					if rec.Err == history.ErrUntyped && l.untyped.Add(1) <= 10 {
						fmt.Fprintf(os.Stderr, "soak: %s untyped: %v\n", id, err)
					}
				}
				l.r.h.add(rec)
			})
		}
	})
}

func (l *load) request(ctx context.Context, id string, _ *history.Record) error {
	_, err := l.client.Call(ctx, l.at(exEcho), wrapperspb.String(id))
	return err
}

// keyed sends a new key or, every fifth time, again the key last
// answered: a client repeating a request whose answer it lost. The
// exchange's idempotency table answers the repeat with the first run's
// outcome; the handler must not run it again (applied-twice otherwise).
func (l *load) keyed(ctx context.Context, id string, rec *history.Record) error {
	key := id
	l.mu.Lock()
	if l.keyedN++; l.keyedN%5 == 0 && l.lastKeyed != "" {
		key = l.lastKeyed
	}
	l.mu.Unlock()
	rec.Key = key
	_, err := l.client.Call(ctx, l.at(exKeyed), wrapperspb.String(key), patterns.WithIdempotencyKey(key))
	if err == nil {
		l.mu.Lock()
		l.lastKeyed = key
		l.mu.Unlock()
	}
	return err
}

func (l *load) publish(ctx context.Context, id string, rec *history.Record) error {
	n := l.seq.Load()
	rec.Key = fmt.Sprintf("ev.%d.%c", n%3, "abc"[n%3])
	return patterns.Publish(ctx, l.n, l.at(exEvents), rec.Key, wrapperspb.String(id))
}

// stream asks for 1 to 32 chunks (0, 1, ...) and counts those that came,
// and how many came in order before the first that did not.
func (l *load) stream(ctx context.Context, _ string, rec *history.Record) error {
	rec.Want = 1 + int(l.seq.Load()%32)
	inOrder := true
	for v, err := range patterns.StreamAs[*wrapperspb.UInt32Value](ctx, l.client, l.at(exStream), wrapperspb.UInt32(uint32(rec.Want)), patterns.WithWindow(4)) {
		if err != nil {
			return err
		}
		if inOrder && int(v.GetValue()) == rec.Chunks {
			rec.InOrder++
		} else {
			inOrder = false
		}
		rec.Chunks++
	}
	return nil
}

// task submits to queue q a new key, or again one whose confirm did not
// come.
func (l *load) task(q string) func(ctx context.Context, id string, rec *history.Record) error {
	return func(ctx context.Context, id string, rec *history.Record) error {
		l.mu.Lock()
		key := q + "-" + id
		if r := l.retry[q]; len(r) > 0 {
			key, l.retry[q] = r[0], r[1:]
		}
		l.mu.Unlock()
		rec.Key = key
		c, err := l.tasks.SubmitAsync(ctx, l.at(q), wrapperspb.String(key), patterns.WithKey(key))
		if err == nil {
			err = waitConfirm(ctx, c)
		}
		if err != nil {
			l.mu.Lock()
			l.retry[q] = append(l.retry[q], key)
			l.mu.Unlock()
		}
		return err
	}
}

// waitConfirm waits for a confirm within ctx's deadline.
func waitConfirm(ctx context.Context, c *patterns.Confirm) error {
	ch := make(chan error, 1)
	go func() { ch <- c.Wait() }()
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		return fmt.Errorf("confirm: %w", actor.ErrTimeout)
	}
}

// drain speeds the backlog's worker up and waits until both queues hold
// no task, ready or in flight, so that every confirmed task had its
// chance to be applied. It returns the backlog found at the start.
func (l *load) drain(d time.Duration) int {
	l.fast.Store(true)
	end := time.Now().Add(d)
	backlog := -1
	for _, q := range []string{exBacklog, exJobs} {
		for {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			st, err := tasks.Inspect(ctx, l.n, l.at(q))
			cancel()
			if err == nil && backlog < 0 {
				backlog = st.Ready + st.InFlight
			}
			if err == nil && st.Ready == 0 && st.InFlight == 0 {
				break
			}
			if time.Now().After(end) {
				fmt.Printf("soak: the queue %s did not drain within %v\n", q, d)
				break
			}
			time.Sleep(200 * time.Millisecond) // a poll's pace
		}
	}
	return backlog
}

// depth is how many tasks queue q holds, ready or in flight (-1 if it
// does not answer within a second).
func (l *load) depth(q string) int {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	st, err := tasks.Inspect(ctx, l.n, l.at(q))
	if err != nil {
		return -1
	}
	return st.Ready + st.InFlight
}
