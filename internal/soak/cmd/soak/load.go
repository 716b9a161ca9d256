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
	"github.com/switchboard-go/switchboard/examples/umbrella/apps/documents"
	"github.com/switchboard-go/switchboard/examples/umbrella/apps/subscriptions"
	"github.com/switchboard-go/switchboard/examples/umbrella/apps/timesvc"
	"github.com/switchboard-go/switchboard/examples/umbrella/apps/users"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/exchange/tasks"
	"github.com/switchboard-go/switchboard/internal/soak/history"
	"github.com/switchboard-go/switchboard/patterns"
	"github.com/switchboard-go/switchboard/supervisor"
)

// load is the driver's steady mixed load: requests to the umbrella's
// services (users, time, subscriptions, a scan on a chosen worker),
// publishes of profile events, documents uploaded, and the probe's keyed
// requests, streams and keyed durable tasks to two queues; each with a
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

// at is the exchange ex: a probe's on the node holding it, an
// umbrella's by name (wherever its hub runs).
func (l *load) at(ex string) exchange.Address {
	if i, ok := holder[ex]; ok {
		return exchange.At(l.r.listen[i], ex)
	}
	return exchange.Named(ex)
}

// nodesOf names the nodes holding ex now: a probe exchange's holder, or
// the node the driver's directory says runs the umbrella hub of ex (both
// core nodes if it names none: a hub moving).
func (l *load) nodesOf(ex string) []string {
	if i, ok := holder[ex]; ok {
		return []string{l.r.names[i]}
	}
	var out []string
	for _, hub := range hubs {
		if hub.exchange == ex || ex == "profiles" && hub.app == users.CoreName {
			for _, e := range l.r.cl.LookupAll("distapp.running:" + hub.app) {
				out = append(out, e.Node)
			}
		}
	}
	if len(out) == 0 {
		out = []string{"core-a@localhost", "core-b@localhost"}
	}
	return out
}

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
	// The umbrella's services, through their own client functions.
	l.every(40*time.Millisecond, 2*time.Second, history.OpRequest, "users", l.usersGet)
	l.every(200*time.Millisecond, 2*time.Second, history.OpRequest, "users", l.usersUpdate)
	l.every(100*time.Millisecond, 2*time.Second, history.OpRequest, "time", l.timeNow)
	l.every(200*time.Millisecond, 2*time.Second, history.OpRequest, "subscriptions", l.subscriptions)
	l.every(250*time.Millisecond, 2*time.Second, history.OpRequest, documents.TaskSupervisorName, l.scan)
	l.every(40*time.Millisecond, 2*time.Second, history.OpPublish, "profiles", l.publish)
	l.every(50*time.Millisecond, 5*time.Second, history.OpTask, "documents", l.upload)
	// The probe's.
	l.every(40*time.Millisecond, 3*time.Second, history.OpKeyed, exKeyed, l.keyed)
	l.every(50*time.Millisecond, 3*time.Second, history.OpStream, exStream, l.stream)
	l.every(20*time.Millisecond, 5*time.Second, history.OpTask, exJobs, l.task(exJobs))
	l.every(40*time.Millisecond, 5*time.Second, history.OpTask, exBacklog, l.task(exBacklog))
	return nil
}

// awaitServices waits until each of the umbrella's services answers the
// driver (its hub found in the directory, its controllers joined), as
// make demo waits before its scenario: the load starts on a cluster that
// serves, and a timeout at its start is one the checker counts.
func (l *load) awaitServices(d time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	checks := []struct {
		name string
		try  func(context.Context) error
	}{
		{"users", func(ctx context.Context) error { _, err := users.Get(ctx, l.client, users.Config{}, "u0"); return err }},
		{"time", func(ctx context.Context) error { _, err := timesvc.Now(ctx, l.client, timesvc.Config{}); return err }},
		{"subscriptions", func(ctx context.Context) error {
			_, err := subscriptions.List(ctx, l.client, subscriptions.Config{}, "u0")
			return err
		}},
		{"documents", func(ctx context.Context) error { _, err := tasks.Inspect(ctx, l.n, l.at("documents")); return err }},
		{"profiles", func(ctx context.Context) error {
			return patterns.Publish(ctx, l.n, l.at("profiles"), "profile.none", &users.ProfileUpdated{})
		}},
	}
	for _, c := range checks {
		for {
			cctx, ccancel := context.WithTimeout(ctx, time.Second)
			err := c.try(cctx)
			ccancel()
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return fmt.Errorf("the umbrella's %s service does not answer within %v: %w", c.name, d, err)
			}
			time.Sleep(100 * time.Millisecond) // a retry's pace: the hub may be moving
		}
	}
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
					Exchange: ex, Nodes: l.nodesOf(ex), Invoke: inv, Deadline: deadline}
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

// user is one of the ten users the load asks about.
func (l *load) user() string { return fmt.Sprintf("u%d", l.seq.Load()%10) }

func (l *load) usersGet(ctx context.Context, _ string, rec *history.Record) error {
	rec.Key = l.user()
	p, err := users.Get(ctx, l.client, users.Config{}, rec.Key)
	if err == nil && p.GetUser() != rec.Key {
		return fmt.Errorf("users: asked for %s, got the profile of %q", rec.Key, p.GetUser())
	}
	return err
}

func (l *load) usersUpdate(ctx context.Context, id string, rec *history.Record) error {
	rec.Key = l.user()
	p, err := users.Update(ctx, l.client, users.Config{}, rec.Key, id)
	if err == nil && (p.GetUser() != rec.Key || p.GetDisplayName() != id) {
		return fmt.Errorf("users: updated %s to %s, got %v", rec.Key, id, p)
	}
	return err
}

func (l *load) timeNow(ctx context.Context, _ string, _ *history.Record) error {
	_, err := timesvc.Now(ctx, l.client, timesvc.Config{})
	return err
}

// subscriptions adds a subscription or lists a user's, in turn: only the
// exchange's leader answers.
func (l *load) subscriptions(ctx context.Context, _ string, rec *history.Record) error {
	n := l.seq.Load()
	rec.Key = l.user()
	var err error
	if n%2 == 0 {
		_, err = subscriptions.Add(ctx, l.client, subscriptions.Config{}, rec.Key, fmt.Sprintf("c%d", n%20), "soak")
	} else {
		_, err = subscriptions.List(ctx, l.client, subscriptions.Config{}, rec.Key)
	}
	return err
}

// scan runs the task "scan" on a worker node's task supervisor, the
// workers in turn, and checks the verdict came from that node.
func (l *load) scan(ctx context.Context, id string, rec *history.Record) error {
	var workers []int
	for i, role := range nodeRoles {
		if role == "worker" {
			workers = append(workers, i)
		}
	}
	i := workers[int(l.seq.Load())%len(workers)]
	rec.Nodes = []string{l.r.names[i]}
	doc := &documents.Document{Id: id, Name: id + ".pdf"}
	v, err := supervisor.Run(ctx, l.n, actor.NamedPID(l.r.listen[i], documents.TaskSupervisorName), documents.ScanTask, doc)
	if err != nil {
		return err
	}
	if vd, ok := v.(*documents.Verdict); !ok || !vd.GetClean() || vd.GetCheckedBy() != l.r.names[i] {
		return fmt.Errorf("scan on %s: verdict %v", l.r.names[i], v)
	}
	return nil
}

// upload submits a document to the umbrella's queue; its confirm is the
// Upload's nil error. The queue keeps its documents in memory (Volatile):
// those it holds are lost with its instance; the checkers journal each
// document they settle (the effect).
func (l *load) upload(ctx context.Context, id string, rec *history.Record) error {
	rec.Key, rec.Volatile, rec.App = "doc-"+id, true, documents.QueueName
	return documents.Upload(ctx, l.tasks, documents.Config{}, &documents.Document{Id: rec.Key, User: l.user(), Name: id + ".pdf"})
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

// publish publishes a profile event on the umbrella's profiles exchange,
// its id as the profile's display name.
func (l *load) publish(ctx context.Context, id string, rec *history.Record) error {
	user := l.user()
	rec.Key, rec.App = users.EventKey(user), users.CoreName // profiles is users_core's
	ev := &users.ProfileUpdated{Profile: &users.Profile{User: user, DisplayName: id, ServedBy: driverName}, PublishedUnixNano: time.Now().UnixNano()}
	return patterns.Publish(ctx, l.n, l.at("profiles"), rec.Key, ev)
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

// drain speeds the backlog's worker up and waits until the queues hold
// no task, ready or in flight, so that every confirmed task had its
// chance to be applied. It returns the backlog found at the start.
func (l *load) drain(d time.Duration) int {
	l.fast.Store(true)
	end := time.Now().Add(d)
	backlog := -1
	for _, q := range []string{exBacklog, exJobs, "documents"} {
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
