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

	"github.com/switchboard-go/switchboard/examples/umbrella/internal/stats"
)

// Main is the command "umbrella node": it runs one node of a role until
// its stdin closes, SIGTERM or SIGINT, and prints "READY <name>
// <address>" on stdout once its applications run. The cookie is
// $SWITCHBOARD_COOKIE. It returns the exit code.
func Main(args []string) int {
	fs := flag.NewFlagSet("umbrella node", flag.ContinueOnError)
	name := fs.String("name", "", "the node's name, name@host (required)")
	role := fs.String("role", "", "the node's role: "+strings.Join(Roles, ", ")+" (required)")
	listen := fs.String("listen", "127.0.0.1:0", "the transport's listen address")
	seeds := fs.String("seeds", "", "embedded membership: comma-separated addresses of nodes to join through")
	consul := fs.String("consul", "", "Consul's HTTP address (instead of the embedded membership)")
	lockDir := fs.String("lockdir", "", "embedded membership: the directory of the cluster's locks")
	core := fs.String("core", "core-a@localhost,core-b@localhost", "the two core nodes, by priority")
	verbose := fs.Bool("v", false, "log at debug level")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(os.Stderr, "umbrella node %s: %v\n", *name, err)
		return 1
	}
	cores := strings.Split(*core, ",")
	if *name == "" || !IsRole(*role) || len(cores) != 2 {
		fs.Usage()
		return 2
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})).With("node", *name)
	st := stats.New()
	rel, err := ReleaseFor(*role, [2]string{cores[0], cores[1]}, Configs{}, st)
	if err != nil {
		return fail(err)
	}
	var seedList []string
	if *seeds != "" {
		seedList = strings.Split(*seeds, ",")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	n, err := Start(sctx, Options{
		Name: *name, Listen: *listen, Cookie: os.Getenv("SWITCHBOARD_COOKIE"),
		Seeds: seedList, Consul: *consul, LockDir: *lockDir, Logger: logger,
		Release: rel, Stats: st,
	})
	cancel()
	if err != nil {
		return fail(err)
	}
	fmt.Printf("READY %s %s\n", *name, n.Actor.Address())
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
