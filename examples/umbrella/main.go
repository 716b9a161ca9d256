// Command umbrella is Switchboard's demo: first one node running the
// application "shop", whose supervision tree restarts a crashing worker;
// then a cluster of nodes on loopback, with no Consul, where a client calls
// an exchange by name on another node.
//
//	go run ./examples/umbrella
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/supervisor"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "demo failed:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// The node's own log lines (restarts, crashes) go to stdout beside ours.
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		Level: slog.LevelInfo,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == "stack" {
				return slog.Attr{}
			}
			return a
		},
	}))
	say("Switchboard demo: a supervision tree restarting a crashing worker")
	node, err := actor.Start(actor.Config{Name: "demo@localhost", Logger: logger})
	if err != nil {
		return err
	}
	defer node.Stop(context.Background())
	say("node %s started", node.Name())

	apps, err := supervisor.NewAppController(ctx, node)
	if err != nil {
		return err
	}
	if err := apps.Load(shopApp()); err != nil {
		return err
	}
	if err := apps.Start(ctx, "shop", supervisor.Temporary); err != nil {
		return err
	}
	sup := apps.Running()[0].Supervisor
	children, err := supervisor.WhichChildren(ctx, node, sup)
	if err != nil {
		return err
	}
	say("application shop started: supervisor %s (one_for_one, at most 2 restarts in 10s)", actor.FormatPID(sup))
	for _, c := range children {
		say("  child %-9s %s", c.ID, actor.FormatPID(c.PID))
	}

	order := func(item string) {
		before := node.Whereis("orders")
		reply, err := node.Call(ctx, before, placeOrder{item})
		if err != nil {
			say("order %-8q -> error: %v", item, shortErr(err))
			return
		}
		say("order %-8q -> %v", item, reply)
	}
	// A failed call returns after the supervisor was told of the crash, so
	// a query to the supervisor right after it is answered after the restart.
	poison := func() {
		order("poison")
		_, _ = supervisor.WhichChildren(ctx, node, sup)
	}
	order("book")
	order("lamp")
	say("")
	say("a poison order makes the orders worker panic:")
	poison()
	say("the supervisor restarted it under the same name: orders is now %s", actor.FormatPID(node.Whereis("orders")))
	order("chair")
	say("(orders starts afresh after a restart; inventory, a separate child, kept its stock)")
	say("")
	say("three crashes within 10s exceed the restart intensity:")
	supDown, cancelWatch := node.Watch(sup)
	defer cancelWatch()
	poison()
	poison()
	select {
	case d := <-supDown:
		say("the supervisor gave up: %v", d.Reason)
	case <-ctx.Done():
		return ctx.Err()
	}
	say("shop was a temporary application, so the node keeps running (%d applications left)", len(apps.Running()))
	if err := node.Stop(ctx); err != nil {
		return err
	}
	say("node stopped")
	say("")
	return clusterDemo(ctx)
}

func say(format string, args ...any) { fmt.Printf(">> "+format+"\n", args...) }

func shortErr(err error) string {
	var pe *actor.PanicError
	if errors.As(err, &pe) {
		return fmt.Sprintf("the worker crashed (panic: %v)", pe.Value)
	}
	return err.Error()
}
