package node

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/switchboard-go/switchboard/examples/umbrella/releases"
)

// Main is the command "umbrella node": it runs the node of a release
// until its stdin closes, SIGTERM or SIGINT, and prints "READY <name>
// <address>" on stdout once its applications run. The environment
// overrides the release file (SWITCHBOARD_NODE_NAME, _SEEDS, _LOCK_DIR,
// _CONSUL, _COOKIE; SWITCHBOARD_<APP>_<KEY>). It returns the exit code.
func Main(args []string) int { return Run(args, Options{}) }

// Run is Main with o's Apps and Dial (its Release and Logger come from
// args).
func Run(args []string, o Options) int {
	fs := flag.NewFlagSet("umbrella node", flag.ContinueOnError)
	rel := fs.String("release", "", "the node's role ("+strings.Join(releases.Roles, ", ")+": the release embedded in the binary) or a release file (.toml)")
	check := fs.Bool("check", false, "load and check the release, print its applications, and exit")
	verbose := fs.Bool("v", false, "log at debug level")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *rel == "" {
		fs.Usage()
		return 2
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	if *check {
		o.Release = *rel
		r, _, err := Load(o)
		if err != nil {
			fmt.Fprintln(os.Stderr, "umbrella node:", err)
			return 1
		}
		fmt.Printf("%s: node %s\n", r.File, r.Node.Name)
		for _, a := range r.Apps {
			fmt.Printf("  %-18s nodes %v env %v\n", a.Name, a.Nodes, a.Env.Names())
		}
		return 0
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	o.Release, o.Logger = *rel, logger
	n, err := Start(sctx, o)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "umbrella node:", err)
		return 1
	}
	fmt.Printf("READY %s %s\n", n.Actor().Name(), n.Actor().Address())
	stdin := make(chan struct{})
	go func() { // the demo closes our stdin to stop us (or dies, which closes it too)
		_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
		close(stdin)
	}()
	select {
	case <-stdin:
	case <-ctx.Done():
	case <-n.Done():
	}
	dctx, dcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer dcancel()
	if err := n.Stop(dctx); err != nil {
		logger.Warn("stop", "err", err)
	}
	return 0
}
