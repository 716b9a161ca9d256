package dashboard

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/cluster"
)

// ErrInvalidConfig: a Config failed Validate.
var ErrInvalidConfig = errors.New("dashboard: invalid config")

// ErrClosed: the dashboard was closed.
var ErrClosed = errors.New("dashboard: closed")

// Config configures a Dashboard.
type Config struct {
	// Node is the node that asks the cluster; required. It shows the
	// members of the cluster it joined, itself alone if none.
	Node *actor.Node
	// Via, if set, is the transport address of the node whose view of
	// the cluster the dashboard shows (the members its inspector lists),
	// for a Node that has not joined the cluster itself (the switchboard
	// command's). While Via does not answer, the members it listed last
	// are asked directly. Default: the members of Node's own cluster.
	Via string
	// Interval is the time between two snapshots while someone watches;
	// default 1 s.
	Interval time.Duration
	// Timeout bounds each node's inspection in a round (the node, its
	// supervision trees and exchanges): a node that has not answered by
	// then is shown down this round; default 2 s.
	Timeout time.Duration
	// Forget is how long a node that is down stays on the page; default
	// 10 minutes.
	Forget time.Duration
	// Logger; default slog.Default().
	Logger *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Validate reports what is wrong with the config, wrapping
// ErrInvalidConfig.
func (c Config) Validate() error {
	switch {
	case c.Node == nil:
		return fmt.Errorf("%w: no Node", ErrInvalidConfig)
	case c.Interval < 0 || c.Timeout < 0 || c.Forget < 0:
		return fmt.Errorf("%w: negative Interval, Timeout or Forget", ErrInvalidConfig)
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.Interval == 0 {
		c.Interval = time.Second
	}
	if c.Timeout == 0 {
		c.Timeout = 2 * time.Second
	}
	if c.Forget == 0 {
		c.Forget = 10 * time.Minute
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

//go:embed static
var static embed.FS

// Dashboard is the live web dashboard of a node's cluster, an
// http.Handler. Close stops it.
type Dashboard struct {
	cfg     Config
	rates   *rates
	roster  *roster
	members []cluster.Member // the last members Via listed
	files   http.Handler
	mux     *http.ServeMux

	hub     hub
	ctx     context.Context // canceled by Close
	cancel  context.CancelFunc
	stopped chan struct{}
	once    sync.Once
}

// New returns the dashboard of cfg.Node's cluster and starts its
// goroutine, which asks the cluster only while someone watches.
func New(cfg Config) (*Dashboard, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	sub, err := fs.Sub(static, "static")
	if err != nil {
		return nil, err
	}
	d := &Dashboard{cfg: cfg.withDefaults(), rates: newRates(), files: http.FileServerFS(sub), stopped: make(chan struct{})}
	d.roster = newRoster(d.cfg.Forget)
	d.hub.init()
	d.ctx, d.cancel = context.WithCancel(context.Background())
	d.mux = http.NewServeMux()
	d.mux.HandleFunc("GET /events", d.events)
	d.mux.HandleFunc("GET /api/snapshot", d.snapshot)
	d.mux.Handle("GET /", d.files)
	go d.run()
	return d, nil
}

// ServeHTTP serves the page (/), its script and style, the snapshot as
// JSON (/api/snapshot) and the stream of snapshots (/events), relative to
// wherever the dashboard is mounted.
func (d *Dashboard) ServeHTTP(w http.ResponseWriter, r *http.Request) { d.mux.ServeHTTP(w, r) }

// Close stops the dashboard: its goroutine and every stream it serves
// end; Close returns once its goroutine has. Later requests get 503.
func (d *Dashboard) Close() error {
	d.once.Do(d.cancel)
	<-d.stopped
	return nil
}

// run makes a snapshot every Interval while someone watches, and hands
// it to the watchers.
func (d *Dashboard) run() {
	defer close(d.stopped)
	t := time.NewTicker(d.cfg.Interval)
	defer t.Stop()
	for {
		if !d.hub.watched() {
			select {
			case <-d.hub.wake:
				t.Reset(d.cfg.Interval) // a round now, the next one Interval later
			case <-d.ctx.Done():
				return
			}
		}
		snap := d.collect(d.ctx)
		if d.ctx.Err() != nil {
			return
		}
		if err := d.hub.publish(snap); err != nil {
			d.cfg.Logger.Error("dashboard: snapshot not encoded", "err", err)
		}
		select {
		case <-t.C:
		case <-d.ctx.Done():
			return
		}
	}
}
