// Package demo is the umbrella's demo (make demo): it starts the release
// on one machine — the core, worker and access nodes as OS processes of
// their own, joined with the embedded membership provider or Consul —
// drives a bounded scripted scenario against every service, kills the
// node running the users core with SIGKILL midway and restarts it, prints
// a live summary, and ends with a report; Run's error says whether every
// service worked.
package demo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// Config is one run of the demo.
type Config struct {
	// Duration is the scenario's length (default 45 s); the kill of the
	// users core comes at 30% of it and its node's restart at 55%.
	Duration time.Duration
	// Forever runs the scenario until ctx ends (Ctrl-C), with the kill at
	// 12 s and the restart at 22 s.
	Forever bool
	// Consul, if set, is Consul's HTTP address: the nodes join it instead
	// of the embedded provider.
	Consul string
	// Workers and Access are how many worker and access nodes to start
	// (default 3 and 2); two core nodes always.
	Workers, Access int
	// Clients is the WebSocket clients per access node (default 25).
	Clients int
	// Rate is the users service's requests per second (default 200).
	Rate int
	// Out gets the summary and the report; Live refreshes the summary in
	// place (a terminal) instead of printing a line every few seconds.
	Out  io.Writer
	Live bool
	// Exe is the binary to start nodes with ("node" as its first
	// argument); default this one.
	Exe string
}

func (c Config) withDefaults() (Config, error) {
	if c.Duration == 0 {
		c.Duration = 45 * time.Second
	}
	if c.Workers == 0 {
		c.Workers = 3
	}
	if c.Access == 0 {
		c.Access = 2
	}
	if c.Clients == 0 {
		c.Clients = 25
	}
	if c.Rate == 0 {
		c.Rate = 200
	}
	if c.Out == nil {
		c.Out = os.Stdout
	}
	if c.Exe == "" {
		exe, err := os.Executable()
		if err != nil {
			return c, err
		}
		c.Exe = exe
	}
	if c.Workers+2 < 5 {
		return c, fmt.Errorf("demo: %d workers give %d users replicas; want at least 3 workers (5 replicas)", c.Workers, c.Workers+2)
	}
	return c, nil
}

// Main is the demo's command line; it returns the exit code.
func Main(args []string) int {
	fs := flag.NewFlagSet("umbrella", flag.ContinueOnError)
	var c Config
	fs.DurationVar(&c.Duration, "duration", 45*time.Second, "how long the scripted scenario runs")
	fs.BoolVar(&c.Forever, "forever", false, "run the scenario until Ctrl-C")
	fs.StringVar(&c.Consul, "consul", "", "join the Consul agent at this HTTP address instead of the embedded provider")
	fs.IntVar(&c.Workers, "workers", 3, "worker nodes (each runs a users replica; two more run on the core nodes)")
	fs.IntVar(&c.Access, "access", 2, "access nodes (WebSocket servers)")
	fs.IntVar(&c.Clients, "clients", 25, "WebSocket clients per access node")
	fs.IntVar(&c.Rate, "rate", 200, "requests per second to the users service")
	plain := fs.Bool("plain", false, "print summary lines instead of refreshing the screen")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	c.Live = !*plain && isTerminal(os.Stdout)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := Run(ctx, c); err != nil {
		fmt.Fprintln(os.Stderr, "umbrella:", err)
		return 1
	}
	return 0
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0 && os.Getenv("TERM") != "dumb"
}

// ErrServiceFailed: a check of the report failed.
var ErrServiceFailed = errors.New("a service did not work")

// Run runs the demo: ctx ending (Ctrl-C) ends the scenario early, and the
// report covers what ran. Every node it started has exited when it
// returns.
func Run(ctx context.Context, c Config) error {
	c, err := c.withDefaults()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "umbrella-demo-")
	if err != nil {
		return err
	}
	keepLogs := false
	defer func() {
		if !keepLogs {
			_ = os.RemoveAll(dir)
		}
	}()
	rig, err := startRig(ctx, c, dir)
	if err != nil {
		keepLogs = true
		if rig != nil {
			_, _ = rig.shutdown()
		}
		return fmt.Errorf("%w (node logs in %s)", err, dir)
	}
	rep := runScenario(ctx, c, rig)
	rep.unclean, rep.leftover = rig.shutdown()
	rep.render(c.Out, rig, c.Live)
	if rep.failures() > 0 {
		keepLogs = true
		return fmt.Errorf("%w: %d checks failed (node logs in %s)", ErrServiceFailed, rep.failures(), dir)
	}
	return nil
}

func newCookie() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
