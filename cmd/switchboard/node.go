package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os/signal"
	"syscall"
	"time"

	"github.com/switchboard-go/switchboard/release"
)

const nodeUsage = `usage: switchboard node --release FILE

Runs a node from a release file until SIGINT or SIGTERM: the node, its
cluster membership, its declared exchanges ([[exchanges]]), its inspector
and, with node.metrics_addr, its /metrics, /healthz and /readyz. This
generic binary links in no user application: a release naming one under
[apps.*] is refused ("unknown application", exit 2). To run applications,
build a binary of your own around release.Load (see "switchboard new").
`

// cmdNode is "node --release FILE".
func cmdNode(args []string, stdout, stderr io.Writer, _ func(string) (string, bool)) int {
	fs := flag.NewFlagSet("switchboard node", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, nodeUsage, "\nflags:\n"); fs.PrintDefaults() }
	file := fs.String("release", "", "the release file (required)")
	stopTimeout := fs.Duration("stop-timeout", 30*time.Second, "bound of the stop on a signal")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if *file == "" || fs.NArg() != 0 {
		fs.Usage()
		return exitUsage
	}
	rel, err := release.Load(*file, nil)
	if err != nil {
		fmt.Fprintf(stderr, "switchboard node: %v\n", err)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	run, err := rel.Start(ctx, release.Options{Logger: slog.New(slog.NewTextHandler(stderr, nil))})
	if err != nil {
		fmt.Fprintf(stderr, "switchboard node: %v\n", err)
		return exitError
	}
	fmt.Fprintf(stdout, "node %s listening on %s\n", run.Node().Name(), run.Node().Address())
	if a := run.MetricsAddr(); a != "" {
		fmt.Fprintf(stdout, "metrics on http://%s/metrics\n", a)
	}
	select {
	case <-ctx.Done():
	case <-run.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), *stopTimeout)
	defer cancel()
	err = run.Stop(sctx)
	if rerr := run.Err(); ctx.Err() == nil && rerr != nil {
		err = errors.Join(err, rerr) // the node ended by itself
	}
	if err != nil {
		fmt.Fprintf(stderr, "switchboard node: %v\n", err)
		return exitError
	}
	fmt.Fprintln(stdout, "stopped")
	return exitOK
}
