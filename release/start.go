package release

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/cluster"
	"github.com/switchboard-go/switchboard/distapp"
	"github.com/switchboard-go/switchboard/inspect"
	"github.com/switchboard-go/switchboard/ops"
	"github.com/switchboard-go/switchboard/supervisor"
)

// ExchangesApp is the name of the application that runs a release's
// exchanges: a one_for_one supervisor of them, permanent, started before
// the release's applications and stopped after them.
const ExchangesApp = "switchboard:exchanges"

// Options are what Start takes besides the release file.
type Options struct {
	// Logger is the node's logger (actor.Config.Logger); default: the
	// node's default.
	Logger *slog.Logger
	// TLS encrypts the node's connections (actor.Config.TLS).
	TLS *tls.Config
	// Dial opens the node's connections to other nodes (actor.Config.Dial):
	// through a proxy, a tunnel or a test's fault injector; default TCP.
	Dial func(ctx context.Context, addr string) (net.Conn, error)
}

// Running is a node started from a release. Stop it.
type Running struct {
	rel   *Release
	node  *actor.Node
	cl    *cluster.Cluster
	apps  *supervisor.AppController
	dist  *distapp.Coordinator
	ops   *ops.Server // the metrics endpoint, if the release has one
	stop  sync.Once
	stErr error
}

// Start boots the node of the release: the actor node, its membership (the
// embedded provider, or Consul if the file names an agent), the exchanges
// (as the application ExchangesApp), the plain applications through a
// supervisor.AppController in dependency order, then the distributed ones
// through a distapp.Coordinator, and last the node's inspector
// (inspect.Start) and, with node.metrics_addr, its metrics endpoint
// (package ops). Start returns once every application has
// started (a distributed one: once this node takes part, running it or
// standing by). If a step fails, Start undoes the ones before and returns
// the error.
func (r *Release) Start(ctx context.Context, opts Options) (*Running, error) {
	n, err := actor.Start(actor.Config{
		Name: r.Node.Name, Listen: r.Node.Listen, Cookie: r.Node.Cookie,
		TickTime: r.Node.TickTime, Logger: opts.Logger, TLS: opts.TLS, Dial: opts.Dial,
	})
	if err != nil {
		return nil, fmt.Errorf("release %s: start node %s: %w", r.File, r.Node.Name, err)
	}
	run := &Running{rel: r, node: n}
	fail := func(step string, err error) (*Running, error) {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopTimeout)
		defer cancel()
		_ = run.Stop(sctx)
		return nil, fmt.Errorf("release %s: %s: %w", r.File, step, err)
	}
	var prov cluster.Provider
	if r.Node.Consul != "" {
		prov = cluster.Consul(cluster.ConsulConfig{Address: r.Node.Consul, TTL: r.Node.ConsulTTL, Logger: opts.Logger})
	} else {
		prov = cluster.Embedded(cluster.EmbeddedConfig{Seeds: r.Node.Seeds, LockDir: r.Node.LockDir})
	}
	if run.cl, err = cluster.Join(ctx, n, cluster.Config{Provider: prov, Logger: opts.Logger}); err != nil {
		return fail("join the cluster", err)
	}
	if run.apps, err = supervisor.NewAppController(ctx, n); err != nil {
		return fail("application controller", err)
	}
	if len(r.Exchanges) > 0 {
		if err := run.startExchanges(ctx); err != nil {
			return fail("exchanges", err)
		}
	}
	for _, a := range r.Apps {
		if a.Distributed() {
			continue
		}
		if err := run.apps.Load(r.application(a)); err != nil {
			return fail("application "+a.Name, err)
		}
		if err := run.apps.Start(ctx, a.Name, a.Restart); err != nil {
			return fail("application "+a.Name, err)
		}
	}
	for _, a := range r.Apps {
		if !a.Distributed() {
			continue
		}
		if run.dist == nil {
			if run.dist, err = distapp.NewCoordinator(n, run.apps); err != nil {
				return fail("distributed applications", err)
			}
		}
		spec := distapp.Spec{Application: r.application(a), Restart: a.Restart, Nodes: a.Nodes,
			FailoverTimeout: a.FailoverTimeout, TakeoverTimeout: a.TakeoverTimeout}
		if err := run.dist.Start(ctx, spec); err != nil {
			return fail("distributed application "+a.Name, err)
		}
	}
	// The node answers inspections from any node (inspect, cmd/switchboard).
	if _, err := inspect.Start(ctx, n, inspect.Sources{Apps: run.apps, DistApps: run.dist}); err != nil {
		return fail("inspector", err)
	}
	if r.Node.MetricsAddr != "" {
		if err := run.serveMetrics(); err != nil {
			return fail("metrics endpoint "+r.Node.MetricsAddr, err)
		}
	}
	return run, nil
}

// serveMetrics opens the node's /metrics, /healthz and /readyz; the node
// is ready once its plain applications run.
func (run *Running) serveMetrics() error {
	var ready []string
	for _, a := range run.rel.Apps {
		if !a.Distributed() {
			ready = append(ready, a.Name)
		}
	}
	o, err := ops.New(ops.Config{Node: run.node, Apps: run.apps, ReadyApps: ready})
	if err != nil {
		return err
	}
	run.ops, err = ops.Listen(run.rel.Node.MetricsAddr, o)
	return err
}

// MetricsAddr is the address of the node's metrics endpoint ("" if the
// release has none): node.metrics_addr, its port chosen if that was 0.
func (run *Running) MetricsAddr() string {
	if run.ops == nil {
		return ""
	}
	return run.ops.Addr()
}

const stopTimeout = 30 * time.Second // for the undoing of a failed Start

func (r *Release) application(a AppConfig) supervisor.Application {
	app := r.apps[a.Name]
	env := a.Env
	return supervisor.Application{
		Name: a.Name, Deps: app.Deps, Stop: app.Stop,
		Start: func(ctx context.Context, n *actor.Node, t supervisor.StartType) (*actor.PID, error) {
			return app.Start(ctx, n, env, t)
		},
	}
}

func (run *Running) startExchanges(ctx context.Context) error {
	children := make([]supervisor.ChildSpec, len(run.rel.Exchanges))
	for i, e := range run.rel.Exchanges {
		children[i] = e.ChildSpec()
	}
	err := run.apps.Load(supervisor.Application{
		Name: ExchangesApp,
		Start: func(ctx context.Context, n *actor.Node, _ supervisor.StartType) (*actor.PID, error) {
			return supervisor.Start(ctx, n, supervisor.Spec{Strategy: supervisor.OneForOne, Children: children})
		},
	})
	if err != nil {
		return err
	}
	return run.apps.Start(ctx, ExchangesApp, supervisor.Permanent)
}

// Node is the running node.
func (run *Running) Node() *actor.Node { return run.node }

// Cluster is the node's view of its cluster.
func (run *Running) Cluster() *cluster.Cluster { return run.cl }

// Applications is the node's application controller: the plain
// applications, ExchangesApp, and the distributed ones while they run
// here.
func (run *Running) Applications() *supervisor.AppController { return run.apps }

// Distributed is the node's controller of distributed applications; nil
// if the release has none.
func (run *Running) Distributed() *distapp.Coordinator { return run.dist }

// Done is closed when the node has stopped: by Stop, or because a
// permanent application exited (Err says which).
func (run *Running) Done() <-chan struct{} { return run.node.Done() }

// Err says which application's exit stopped the node, once Done is
// closed; nil after a Stop.
func (run *Running) Err() error {
	if run.apps == nil {
		return nil
	}
	return run.apps.Err()
}

// Stop undoes Start: it stops the distributed applications, the plain
// ones (in reverse start order), the exchanges, leaves the cluster and
// stops the node. It returns when all of them have ended; calling it again
// returns the first call's result.
func (run *Running) Stop(ctx context.Context) error {
	run.stop.Do(func() {
		var errs []error
		if run.apps != nil && run.apps.Err() != nil {
			// An application's exit is stopping the node already.
			select {
			case <-run.apps.Done():
			case <-ctx.Done():
				errs = append(errs, ctx.Err())
			}
		}
		select {
		case <-run.node.Done():
		default:
			if run.dist != nil {
				errs = append(errs, run.dist.StopAll(ctx))
			}
			if run.apps != nil {
				errs = append(errs, run.apps.StopAll(ctx))
			}
		}
		if run.cl != nil {
			if err := run.cl.Leave(ctx); err != nil && !errors.Is(err, actor.ErrNodeStopped) {
				errs = append(errs, err)
			}
		}
		errs = append(errs, run.node.Stop(ctx))
		if run.ops != nil {
			errs = append(errs, run.ops.Close(ctx))
		}
		run.stErr = errors.Join(errs...)
	})
	return run.stErr
}
