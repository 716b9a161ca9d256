package main

import (
	"context"
	"fmt"
	"os"
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
// publishes and keyed durable tasks, each with a deadline, each recorded
// from invocation to outcome.
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
	retry     []string // task keys whose confirm did not come
	keyedN    int      // keyed requests sent
	lastKeyed string   // the key of the last keyed request answered
	queue     exchange.Address
}

func newLoad(n *actor.Node, r *run) *load {
	return &load{n: n, r: r, client: patterns.NewClient(n), tasks: patterns.NewTasks(n), done: make(chan struct{}),
		queue: exchange.At(r.listen[0], exJobs)}
}

func (l *load) start() {
	l.every(20*time.Millisecond, 2*time.Second, history.OpRequest, exEcho, l.request)
	l.every(40*time.Millisecond, 3*time.Second, history.OpKeyed, exKeyed, l.keyed)
	l.every(40*time.Millisecond, 2*time.Second, history.OpPublish, exEvents, l.publish)
	l.every(20*time.Millisecond, 5*time.Second, history.OpTask, exJobs, l.task)
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
				rec := history.Record{Type: history.TypeOp, ID: id, Kind: kind, Client: "driver", Node: "driver@localhost",
					Exchange: ex, Invoke: inv, Deadline: deadline}
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
	_, err := l.client.Call(ctx, exchange.At(l.r.hub, exEcho), wrapperspb.String(id))
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
	_, err := l.client.Call(ctx, exchange.At(l.r.hub, exKeyed), wrapperspb.String(key), patterns.WithIdempotencyKey(key))
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
	return patterns.Publish(ctx, l.n, exchange.At(l.r.hub, exEvents), rec.Key, wrapperspb.String(id))
}

// task submits a new key, or again one whose confirm did not come.
func (l *load) task(ctx context.Context, id string, rec *history.Record) error {
	l.mu.Lock()
	key := "task-" + id
	if len(l.retry) > 0 {
		key, l.retry = l.retry[0], l.retry[1:]
	}
	l.mu.Unlock()
	rec.Key = key
	c, err := l.tasks.SubmitAsync(ctx, l.queue, wrapperspb.String(key), patterns.WithKey(key))
	if err == nil {
		err = waitConfirm(ctx, c)
	}
	if err != nil {
		l.mu.Lock()
		l.retry = append(l.retry, key)
		l.mu.Unlock()
	}
	return err
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

// drain waits until the queue holds no task, ready or in flight, so that
// every confirmed task had its chance to be applied.
func (l *load) drain(d time.Duration) {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		st, err := tasks.Inspect(ctx, l.n, l.queue)
		cancel()
		if err == nil && st.Ready == 0 && st.InFlight == 0 {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	fmt.Println("soak: the queue did not drain within", d)
}
