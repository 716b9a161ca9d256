package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/cluster"
	"github.com/switchboard-go/switchboard/examples/umbrella/apps/users"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/exchange/pubsub"
	"github.com/switchboard-go/switchboard/exchange/tasks"
	"github.com/switchboard-go/switchboard/internal/soak/history"
	"github.com/switchboard-go/switchboard/patterns"
	"github.com/switchboard-go/switchboard/release"
	"github.com/switchboard-go/switchboard/supervisor"
)

// The soak's probe applications, in every node's release beside the
// umbrella's: probeApp records what the umbrella's applications do not
// (effects of keyed requests and durable tasks, deliveries of profile
// events, which umbrella hubs run here, membership and resources), and
// singletonApp is a distributed application whose instances record their
// own start and stop.
const (
	stoppingFile = "stopping" // in SOAK_DIR: the driver stops the nodes, views are no longer recorded
	probeApp     = "soak_probe"
	singletonApp = "soak_singleton"
	subscriberID = "soak.subscriber"
)

// The probe's exchanges, each held by one of the nodes (holder: its
// index), so that the faults hit the nodes holding them too; the driver
// holds none. keyed is request-response used with idempotency keys;
// stream gives chunked responses; jobs and backlog are durable task
// queues. backlog's only worker is the driver's, slower than the load, so
// that the queue holds a standing backlog whenever its node is killed.
const (
	exKeyed   = "keyed"
	exJobs    = "jobs"
	exBacklog = "backlog"
	exStream  = "stream"
)

var holder = map[string]int{exJobs: 0, exKeyed: 2, exBacklog: 3, exStream: 4}

// hubs are the umbrella's distributed applications by the exchanges each
// registers where it runs: the probe's watcher records an instance start
// when they are all registered on its node, and a stop when one goes or
// is another process than before (a restart between two looks).
var hubs = []struct {
	app      string
	exchange string // the one the load's operations go to
	more     []string
}{
	{"users_core", "users", []string{"profiles"}}, {"time_hub", "time", nil},
	{"documents_queue", "documents", []string{"documents.dead"}}, {"subscriptions_hub", "subscriptions", nil},
}

// probe is one node's probe: its history file, its place in the soak.
type probe struct {
	h       *hist
	name    string
	idx     int
	dir     string
	addrs   []string
	pattern string
	events  exchange.Address // the pub-sub exchange its subscriber follows
	slow    *slow
}

// at is the probe exchange ex on the node holding it.
func (pr *probe) at(ex string) exchange.Address { return exchange.At(pr.addrs[holder[ex]], ex) }

// apps are the probe's applications for node.Options.Apps.
func (pr *probe) apps() release.Apps {
	return release.Apps{probeApp: {Start: pr.start}, singletonApp: {Start: pr.startSingleton}}
}

// start is the application soak_probe: the probe exchanges this node
// holds, a controller of keyed and of stream, a worker of jobs, the
// profile events' subscriber, the reporter and the hubs' watcher.
func (pr *probe) start(ctx context.Context, n *actor.Node, _ release.Env, _ supervisor.StartType) (*actor.PID, error) {
	var children []supervisor.ChildSpec
	for _, ex := range []string{exKeyed, exStream} {
		if holder[ex] == pr.idx {
			children = append(children, exchange.ChildSpec(exchange.Spec{Name: ex, Strategy: exchange.RoundRobin}))
		}
	}
	for _, q := range []string{exJobs, exBacklog} {
		if holder[q] == pr.idx {
			// Durable: restarted on the same directory after a kill.
			children = append(children, tasks.ChildSpec(tasks.Spec{Name: q, Dir: filepath.Join(pr.dir, "queue-"+q), MaxQueue: tasks.Unlimited,
				AckTimeout: 5 * time.Second, DedupWindow: time.Hour}))
		}
	}
	// The keyed service's effect is the record: the exchange must run each
	// key once, the checker counts the records.
	keyed := func(ctx context.Context, req *exchange.Request) (any, error) {
		if err := ctx.Err(); err != nil {
			return nil, err // its client gave up: a request that waited out a SIGSTOP is not run
		}
		pr.h.add(history.Record{Type: history.TypeEffect, Kind: history.OpKeyed, Key: req.IdempotencyKey, Node: pr.name, Invoke: time.Now()})
		return wrapperspb.String(pr.name), nil
	}
	// The stream's chunks are 0, 1, ... up to the number asked for.
	stream := func(ctx context.Context, req *exchange.Request, send func(any) error) error {
		want, ok := req.Msg.(*wrapperspb.UInt32Value)
		if !ok {
			return fmt.Errorf("%w: %T", exchange.ErrBadRequest, req.Msg)
		}
		for i := range want.GetValue() {
			if err := send(wrapperspb.UInt32(i)); err != nil {
				return err
			}
		}
		return nil
	}
	children = append(children,
		patterns.ControllerSpec("keyed", func() *patterns.Controller { return patterns.NewController(pr.at(exKeyed), keyed) }),
		patterns.StreamControllerSpec("stream", func() *patterns.StreamController { return patterns.NewStreamController(pr.at(exStream), stream) }),
		patterns.WorkerSpec("jobs", func() *patterns.Worker { return patterns.NewWorker(pr.at(exJobs), 16, pr.work) }),
		supervisor.Worker("subscriber", func() actor.Server { return &subscriber{pr: pr} }, actor.WithName(subscriberID)),
		supervisor.Worker("reporter", func() actor.Server { return &reporter{pr: pr} }),
		supervisor.Worker("watcher", func() actor.Server { return &watcher{pr: pr, up: map[string]bool{}} }),
	)
	return supervisor.Start(ctx, n, supervisor.Spec{Strategy: supervisor.OneForOne, Children: children})
}

// work is the jobs worker's effect. Task queues deliver at least once, so
// it is idempotent by key, as a table with the key as primary key would
// be: a marker file created exclusively in the shared effects directory.
func (pr *probe) work(w *patterns.Worker, t *tasks.Task) {
	pr.slow.wait()
	f, err := os.OpenFile(filepath.Join(pr.dir, "effects", t.Key), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	switch {
	case err == nil:
		f.Close()
		pr.h.add(history.Record{Type: history.TypeEffect, Kind: history.OpTask, Key: t.Key, Node: pr.name, Invoke: time.Now()})
	case !errors.Is(err, os.ErrExist):
		_ = w.Nack(t.Tag)
		return
	}
	_ = w.Ack(t.Tag)
}

// startSingleton is the distributed application soak_singleton: an empty
// tree whose instances record their own start and stop, checked by the
// rule "never two instances outside a handover".
func (pr *probe) startSingleton(ctx context.Context, n *actor.Node, _ release.Env, _ supervisor.StartType) (*actor.PID, error) {
	pr.h.add(history.Record{Type: history.TypeInstance, App: singletonApp, Node: pr.name, Kind: "start", Invoke: time.Now()})
	return supervisor.Start(ctx, n, supervisor.Spec{Strategy: supervisor.OneForOne, Children: []supervisor.ChildSpec{
		supervisor.Worker("instance", func() actor.Server { return &instance{pr: pr} }),
	}})
}

// instance records its application's stop when its tree stops.
type instance struct {
	actor.BaseServer
	pr *probe
}

func (i *instance) Terminate(*actor.Process, error) {
	i.pr.h.add(history.Record{Type: history.TypeInstance, App: singletonApp, Node: i.pr.name, Kind: "stop", Invoke: time.Now()})
}

// subscriber records every profile event delivered to it: the event's id
// is its profile's display name, as the driver publishes it.
type subscriber struct {
	actor.BaseServer
	pr *probe
}

func (s *subscriber) HandleInfo(_ *actor.Process, msg any) {
	s.pr.slow.wait()
	m, ok, err := pubsub.AsMessage(msg)
	if !ok || err != nil {
		return
	}
	if ev, ok := m.Value.(*users.ProfileUpdated); ok {
		s.pr.h.add(history.Record{Type: history.TypeDelivery, ID: ev.GetProfile().GetDisplayName(), Client: s.pr.name + "/sub", Node: s.pr.name, Key: m.Key, Invoke: time.Now()})
	}
}

type tick struct{}

// reporter subscribes the subscriber (recording the first confirmation)
// and then again every second: the exchange drops a subscriber whose node
// it saw down (a pause), it may move (users_core failing over), and
// subscribing again is a no-op while the subscription holds. Every second
// it also records the node's membership view, goroutines and heap.
type reporter struct {
	actor.BaseServer
	pr        *probe
	confirmed bool
}

func (r *reporter) Init(p *actor.Process) error {
	p.SendAfter(100*time.Millisecond, tick{})
	return nil
}

func (r *reporter) HandleInfo(p *actor.Process, msg any) {
	if _, ok := msg.(tick); !ok {
		return
	}
	n, pr := p.Node(), r.pr
	if sub := n.Whereis(subscriberID); sub != nil {
		inv := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := patterns.Subscribe(ctx, n, pr.events, pr.pattern, "", sub)
		cancel()
		if err == nil && !r.confirmed {
			r.confirmed = true
			client := pr.name + "/sub"
			pr.h.add(history.Record{Type: history.TypeOp, ID: fmt.Sprintf("%s-subscribe-%d", client, inv.UnixNano()), Kind: history.OpSubscribe,
				Client: client, Node: pr.name, Key: pr.pattern, Invoke: inv, Complete: time.Now(), Outcome: history.OutcomeOK})
		}
	}
	if !r.confirmed {
		p.SendAfter(100*time.Millisecond, tick{}) // a retry's pace: the exchange may not be up yet
		return
	}
	p.SendAfter(time.Second, tick{})
	if _, err := os.Stat(filepath.Join(pr.dir, stoppingFile)); err == nil {
		return // the run is over: the driver stops the nodes
	}
	sample(pr.h, pr.name, cluster.From(n))
}

// watcher records, every 50 ms, which of the umbrella's hubs run on its
// node: an instance of a distributed application starts when its
// exchange is registered here and stops when it is gone.
// It also records a stall of its node: a tick that came more than a
// second late, the machine not running the process.
type watcher struct {
	actor.BaseServer
	pr   *probe
	up   map[string]bool
	pids map[string][]*actor.PID // by application: its exchanges' processes while up
	last time.Time
}

func (w *watcher) Init(p *actor.Process) error {
	w.look(p)
	return nil
}

func (w *watcher) HandleInfo(p *actor.Process, msg any) {
	if _, ok := msg.(tick); ok {
		w.look(p)
	}
}

func (w *watcher) Terminate(*actor.Process, error) {
	for _, hub := range hubs {
		if w.up[hub.app] {
			w.pr.h.add(history.Record{Type: history.TypeInstance, App: hub.app, Node: w.pr.name, Kind: "stop", Invoke: time.Now()})
		}
	}
}

func (w *watcher) look(p *actor.Process) {
	now := time.Now()
	if !w.last.IsZero() && now.Sub(w.last) > watchEvery+stallBound {
		w.pr.h.add(history.Record{Type: history.TypeFault, ID: fmt.Sprintf("stall-%s-%d", w.pr.name, now.UnixNano()), Kind: history.FaultStall,
			Nodes: []string{w.pr.name}, Invoke: w.last.Add(watchEvery), Complete: now})
	}
	w.last = now
	if w.pids == nil {
		w.pids = map[string][]*actor.PID{}
	}
	for _, hub := range hubs {
		var pids []*actor.PID
		for _, ex := range append([]string{hub.exchange}, hub.more...) {
			if pid := p.Node().Whereis(exchange.RegisteredName(ex)); pid != nil {
				pids = append(pids, pid)
			}
		}
		up := len(pids) == 1+len(hub.more)
		same := up && w.up[hub.app] && slices.EqualFunc(pids, w.pids[hub.app], func(a, b *actor.PID) bool { return a.Equal(b) })
		if w.up[hub.app] && !same {
			w.pr.h.add(history.Record{Type: history.TypeInstance, App: hub.app, Node: w.pr.name, Kind: "stop", Invoke: now})
		}
		if up && !same {
			w.pr.h.add(history.Record{Type: history.TypeInstance, App: hub.app, Node: w.pr.name, Kind: "start", Invoke: now})
		}
		w.up[hub.app], w.pids[hub.app] = up, pids
	}
	p.SendAfter(watchEvery, tick{})
}

// watchEvery is the watcher's tick; a tick later than stallBound past
// it is a stall.
const (
	watchEvery = 50 * time.Millisecond
	stallBound = time.Second
)
