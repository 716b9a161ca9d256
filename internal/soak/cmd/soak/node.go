package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/cluster"
	"github.com/switchboard-go/switchboard/distapp"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/exchange/pubsub"
	"github.com/switchboard-go/switchboard/exchange/tasks"
	"github.com/switchboard-go/switchboard/internal/linkproxy"
	"github.com/switchboard-go/switchboard/internal/soak/history"
	"github.com/switchboard-go/switchboard/patterns"
	"github.com/switchboard-go/switchboard/supervisor"
)

// The exchanges of the soak, each held by one of the nodes (holder: its
// index), so that the faults hit the nodes holding them too; the driver
// holds none. jobs and backlog are durable task queues; backlog's only
// worker is the driver's, slower than the load, so that the queue holds
// a standing backlog whenever its node is killed.
const (
	exEcho    = "echo"
	exKeyed   = "keyed"
	exEvents  = "events"
	exJobs    = "jobs"
	exBacklog = "backlog"
	exStream  = "stream"
	appName   = "singleton" // the distributed application
)

var holder = map[string]int{exJobs: 0, exEcho: 1, exKeyed: 2, exBacklog: 3, exEvents: 3, exStream: 4}

// appNodes is the singleton's priority list: n2 first (a restarted n2
// takes it over), then the others alike.
func appNodes(names []string) [][]string {
	return [][]string{{names[1]}, {names[0], names[2], names[3], names[4]}}
}

// nodeMain is "soak node": one node, configured by the environment
// (SOAK_NODE_INDEX, SOAK_NAMES and SOAK_NODES: every node's name and
// address, SOAK_CONSUL, SOAK_DIR, SOAK_PATTERN, SOAK_ROUTES: the link
// proxies it dials the others through). It starts the exchanges it holds,
// prints READY once its controllers, subscriber, worker and distributed
// application's coordinator run and lives until its stdin closes.
func nodeMain() int {
	dir, pattern := os.Getenv("SOAK_DIR"), os.Getenv("SOAK_PATTERN")
	idx, err := strconv.Atoi(os.Getenv("SOAK_NODE_INDEX"))
	names, addrs := strings.Split(os.Getenv("SOAK_NAMES"), ","), strings.Split(os.Getenv("SOAK_NODES"), ",")
	if err != nil || idx < 0 || idx >= len(names) || len(names) != len(addrs) || len(names) != nNodes {
		return fatalf("SOAK_NODE_INDEX %q, SOAK_NAMES %q, SOAK_NODES %q: %d names and addresses and an index", os.Getenv("SOAK_NODE_INDEX"), os.Getenv("SOAK_NAMES"), os.Getenv("SOAK_NODES"), nNodes)
	}
	routes, err := linkproxy.ParseRoutes(os.Getenv("SOAK_ROUTES"))
	if err != nil {
		return fatalf("SOAK_ROUTES: %v", err)
	}
	name, listen := names[idx], addrs[idx]
	at := func(ex string) exchange.Address { return exchange.At(addrs[holder[ex]], ex) }
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	h, err := openHist(filepath.Join(dir, strings.SplitN(name, "@", 2)[0]+".jsonl"))
	if err != nil {
		return fatalf("%v", err)
	}
	defer h.close()
	n, err := actor.Start(actor.Config{Name: name, Listen: listen, Logger: logger, Dial: linkproxy.Dialer(routes)})
	if err != nil {
		return fatalf("start %s: %v", name, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := cluster.Join(ctx, n, cluster.Config{Provider: cluster.Consul(cluster.ConsulConfig{Address: os.Getenv("SOAK_CONSUL"), TTL: 2 * time.Second}), Logger: logger})
	if err != nil {
		return fatalf("%s: join: %v", name, err)
	}
	if err := startExchanges(ctx, n, idx, dir); err != nil {
		return fatalf("%s: %v", name, err)
	}
	echo := patterns.NewController(at(exEcho), func(_ context.Context, req *exchange.Request) (any, error) {
		return req.Msg, nil
	})
	// The keyed service's effect is the record: the exchange must run each
	// key once, the checker counts the records.
	keyed := patterns.NewController(at(exKeyed), func(ctx context.Context, req *exchange.Request) (any, error) {
		if err := ctx.Err(); err != nil {
			return nil, err // its client gave up: a request that waited out a SIGSTOP is not run
		}
		key := req.IdempotencyKey
		h.add(history.Record{Type: history.TypeEffect, Kind: history.OpKeyed, Key: key, Node: name, Invoke: time.Now()})
		return wrapperspb.String(name), nil
	})
	// Task queues deliver at least once, so the worker's effect is
	// idempotent by key, as a table with the key as primary key would be:
	// a marker file created exclusively in the shared effects directory.
	effects := filepath.Join(dir, "effects")
	slow := slowness()
	defer slow.stop()
	worker := patterns.NewWorker(at(exJobs), 16, func(w *patterns.Worker, t *tasks.Task) {
		slow.wait()
		f, err := os.OpenFile(filepath.Join(effects, t.Key), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		switch {
		case err == nil:
			f.Close()
			h.add(history.Record{Type: history.TypeEffect, Kind: history.OpTask, Key: t.Key, Node: name, Invoke: time.Now()})
		case !errors.Is(err, os.ErrExist):
			_ = w.Nack(t.Tag)
			return
		}
		_ = w.Ack(t.Tag)
	})
	client := name + "/sub"
	sub := &subscriber{h: h, client: client, node: name, slow: slow}
	// The stream's chunks are 0, 1, ... up to the number asked for.
	stream := patterns.NewStreamController(at(exStream), func(ctx context.Context, req *exchange.Request, send func(any) error) error {
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
	})
	for _, s := range []actor.Server{echo, keyed, worker, stream} {
		if _, err := n.Spawn(ctx, s); err != nil {
			return fatalf("%s: spawn: %v", name, err)
		}
	}
	subPID, err := n.Spawn(ctx, sub)
	if err != nil {
		return fatalf("%s: spawn: %v", name, err)
	}
	// Subscribe once the exchange is there, and record the confirmation;
	// then subscribe again every second: the exchange drops a subscriber
	// whose node it saw down (a pause), and subscribing again is a no-op
	// while the subscription holds.
	subscribe := func() error {
		sctx, scancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer scancel()
		return patterns.Subscribe(sctx, n, at(exEvents), pattern, "", subPID)
	}
	for {
		inv := time.Now()
		err := subscribe()
		if err == nil {
			h.add(history.Record{Type: history.TypeOp, ID: fmt.Sprintf("%s-subscribe-%d", client, inv.UnixNano()), Kind: history.OpSubscribe,
				Client: client, Node: name, Key: pattern, Invoke: inv, Complete: time.Now(), Outcome: history.OutcomeOK})
			break
		}
		if ctx.Err() != nil {
			return fatalf("%s: subscribe: %v", name, err)
		}
		time.Sleep(100 * time.Millisecond) // a retry's pace: the exchange's node may not be up yet
	}
	apps, err := supervisor.NewAppController(ctx, n)
	if err != nil {
		return fatalf("%s: applications: %v", name, err)
	}
	dc, err := distapp.NewCoordinator(n, apps)
	if err != nil {
		return fatalf("%s: coordinator: %v", name, err)
	}
	if err := dc.Start(ctx, singleton(h, name, names)); err != nil {
		return fatalf("%s: %s: %v", name, appName, err)
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { defer close(done); report(h, name, cl, stop, func() { _ = subscribe() }) }()
	fmt.Printf("READY %s %s\n", name, n.Address())
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
	close(stop)
	<-done
	sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer scancel()
	_ = dc.StopAll(sctx)
	_ = cl.Leave(sctx)
	_ = n.Stop(sctx)
	return 0
}

// startExchanges starts the exchanges node idx holds.
func startExchanges(ctx context.Context, n *actor.Node, idx int, dir string) error {
	for _, ex := range []string{exEcho, exKeyed, exStream} {
		if holder[ex] == idx {
			if _, err := exchange.Start(ctx, n, exchange.Spec{Name: ex, Strategy: exchange.RoundRobin}); err != nil {
				return fmt.Errorf("%s: %w", ex, err)
			}
		}
	}
	if holder[exEvents] == idx {
		if _, err := pubsub.Start(ctx, n, pubsub.Spec{Name: exEvents}); err != nil {
			return fmt.Errorf("%s: %w", exEvents, err)
		}
	}
	for _, q := range []string{exJobs, exBacklog} {
		if holder[q] == idx {
			// Durable: restarted on the same directory after a kill.
			if _, err := tasks.Start(ctx, n, tasks.Spec{Name: q, Dir: filepath.Join(dir, "queue-"+q), MaxQueue: tasks.Unlimited,
				AckTimeout: 5 * time.Second, DedupWindow: time.Hour}); err != nil {
				return fmt.Errorf("%s: %w", q, err)
			}
		}
	}
	return nil
}

// singleton is the distributed application: an empty tree whose
// instances record their own start and stop, checked by the rule "never
// two instances outside a handover".
func singleton(h *hist, name string, names []string) distapp.Spec {
	return distapp.Spec{
		Application: supervisor.Application{
			Name: appName,
			Start: func(ctx context.Context, n *actor.Node, _ supervisor.StartType) (*actor.PID, error) {
				h.add(history.Record{Type: history.TypeInstance, App: appName, Node: name, Kind: "start", Invoke: time.Now()})
				return supervisor.Start(ctx, n, supervisor.Spec{Strategy: supervisor.OneForOne})
			},
			Stop: func(context.Context) {
				h.add(history.Record{Type: history.TypeInstance, App: appName, Node: name, Kind: "stop", Invoke: time.Now()})
			},
		},
		Nodes: appNodes(names),
	}
}

// subscriber records every event delivered to it.
type subscriber struct {
	actor.BaseServer
	h            *hist
	client, node string
	slow         *slow
}

func (s *subscriber) HandleInfo(_ *actor.Process, msg any) {
	s.slow.wait()
	m, ok, err := pubsub.AsMessage(msg)
	if !ok || err != nil {
		return
	}
	if v, ok := m.Value.(*wrapperspb.StringValue); ok {
		s.h.add(history.Record{Type: history.TypeDelivery, ID: v.Value, Client: s.client, Node: s.node, Key: m.Key, Invoke: time.Now()})
	}
}
