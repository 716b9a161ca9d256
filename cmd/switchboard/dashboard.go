package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/switchboard-go/switchboard/dashboard"
	"github.com/switchboard-go/switchboard/inspect"
	"github.com/switchboard-go/switchboard/ops"
)

const dashboardUsage = `usage: switchboard dashboard --node ADDR [--listen HOST:PORT] [flags]

Serves the live web dashboard of the cluster of the node at ADDR on
--listen (default 127.0.0.1:8080) until interrupted.

flags:
`

// dashboardMain is switchboard dashboard: it serves until SIGINT or
// SIGTERM.
func dashboardMain(args []string, stdout, stderr io.Writer, env func(string) (string, bool)) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runDashboard(ctx, args, stdout, stderr, env)
}

// runDashboard serves the dashboard of the cluster of --node until ctx
// ends. It says where on stdout once the node has answered.
func runDashboard(ctx context.Context, args []string, stdout, stderr io.Writer, env func(string) (string, bool)) int {
	fs := flag.NewFlagSet("switchboard dashboard", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, dashboardUsage); fs.PrintDefaults() }
	tg := targetFlags(fs, env)
	listen := fs.String("listen", "127.0.0.1:8080", "address of the dashboard's HTTP server (port 0: a free one)")
	interval := fs.Duration("interval", time.Second, "time between two snapshots of the cluster")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "switchboard dashboard: unexpected %q\n", fs.Arg(0))
		return exitUsage
	}
	if !tg.resolve(stderr) {
		return exitUsage
	}
	n, err := tg.start("switchboard-dashboard")
	if err != nil {
		fmt.Fprintf(stderr, "switchboard: %v\n", err)
		return exitError
	}
	defer func() { _ = n.Stop(context.Background()) }()
	// The node must answer first: a wrong address or cookie is an exit
	// code, not a page of errors.
	s := &session{ctx: ctx, n: n, target: *tg.node}
	first, cancel := context.WithTimeout(ctx, 10*time.Second)
	info, err := inspect.Node(first, n, *tg.node)
	cancel()
	if err != nil {
		return s.fail(stderr, err)
	}
	d, err := dashboard.New(dashboard.Config{Node: n, Via: *tg.node, Interval: *interval, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		fmt.Fprintf(stderr, "switchboard: %v\n", err)
		return exitUsage
	}
	defer func() { _ = d.Close() }()
	srv, err := ops.Listen(*listen, d)
	if err != nil {
		fmt.Fprintf(stderr, "switchboard: %v\n", err)
		return exitError
	}
	fmt.Fprintf(stdout, "dashboard of the cluster of %s on http://%s/\n", info.Name, srv.Addr())
	<-ctx.Done()
	_ = d.Close() // ends the event streams, so that the server's Close needs not wait for them
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer scancel()
	_ = srv.Close(sctx)
	return exitOK
}
