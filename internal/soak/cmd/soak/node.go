package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/cluster"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/exchange/pubsub"
	"github.com/switchboard-go/switchboard/exchange/tasks"
	"github.com/switchboard-go/switchboard/internal/soak/history"
	"github.com/switchboard-go/switchboard/patterns"
)

// The exchanges of the soak. The driver's node holds echo, keyed and
// events; the first node holds the durable queue jobs.
const (
	exEcho   = "echo"
	exKeyed  = "keyed"
	exEvents = "events"
	exJobs   = "jobs"
)

// nodeMain is "soak node": one node, configured by the environment
// (SOAK_NODE_NAME, _LISTEN, SOAK_CONSUL, SOAK_DIR, SOAK_HUB, SOAK_QUEUE,
// SOAK_PATTERN; SOAK_QUEUE_HERE=1 on the queue's node). It prints READY
// once its controllers, subscriber and worker run and lives until its
// stdin closes.
func nodeMain() int {
	name, listen, dir := os.Getenv("SOAK_NODE_NAME"), os.Getenv("SOAK_NODE_LISTEN"), os.Getenv("SOAK_DIR")
	hub, queue, pattern := os.Getenv("SOAK_HUB"), os.Getenv("SOAK_QUEUE"), os.Getenv("SOAK_PATTERN")
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	h, err := openHist(filepath.Join(dir, strings.SplitN(name, "@", 2)[0]+".jsonl"))
	if err != nil {
		return fatalf("%v", err)
	}
	defer h.close()
	n, err := actor.Start(actor.Config{Name: name, Listen: listen, Logger: logger})
	if err != nil {
		return fatalf("start %s: %v", name, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := cluster.Join(ctx, n, cluster.Config{Provider: cluster.Consul(cluster.ConsulConfig{Address: os.Getenv("SOAK_CONSUL"), TTL: 2 * time.Second}), Logger: logger})
	if err != nil {
		return fatalf("%s: join: %v", name, err)
	}
	if os.Getenv("SOAK_QUEUE_HERE") == "1" {
		if _, err := tasks.Start(ctx, n, tasks.Spec{Name: exJobs, Dir: filepath.Join(dir, "queue"), MaxQueue: tasks.Unlimited,
			AckTimeout: 5 * time.Second, DedupWindow: time.Hour}); err != nil {
			return fatalf("%s: queue: %v", name, err)
		}
	}
	echo := patterns.NewController(exchange.At(hub, exEcho), func(_ context.Context, req *exchange.Request) (any, error) {
		return req.Msg, nil
	})
	// The keyed service's effect is the record: the exchange must run each
	// key once, the checker counts the records.
	keyed := patterns.NewController(exchange.At(hub, exKeyed), func(ctx context.Context, req *exchange.Request) (any, error) {
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
	worker := patterns.NewWorker(exchange.At(queue, exJobs), 16, func(w *patterns.Worker, t *tasks.Task) {
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
	for _, s := range []actor.Server{echo, keyed, worker} {
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
		return patterns.Subscribe(sctx, n, exchange.At(hub, exEvents), pattern, "", subPID)
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
	_ = cl.Leave(sctx)
	_ = n.Stop(sctx)
	return 0
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
