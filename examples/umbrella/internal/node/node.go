package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/cluster"
	"github.com/switchboard-go/switchboard/distapp"
	"github.com/switchboard-go/switchboard/examples/umbrella/internal/stats"
	"github.com/switchboard-go/switchboard/supervisor"
)

// Options say how a node starts.
type Options struct {
	Name    string // name@host
	Listen  string // default 127.0.0.1:0
	Cookie  string
	Seeds   []string // embedded provider: transport addresses to join through
	Consul  string   // if set, Consul's HTTP address instead of the embedded provider
	LockDir string   // embedded provider: the directory of its locks
	Logger  *slog.Logger
	// Release is what the node runs; Stats the set its applications count in.
	Release Release
	Stats   *stats.Set
}

// Node is a running node of the umbrella.
type Node struct {
	Actor   *actor.Node
	Cluster *cluster.Cluster
	opts    Options
	apps    *supervisor.AppController
	dc      *distapp.Coordinator
}

// Start starts the node and every application of its release; on an
// error, what it started is stopped again.
func Start(ctx context.Context, o Options) (_ *Node, err error) {
	if o.Listen == "" {
		o.Listen = "127.0.0.1:0"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Stats == nil {
		o.Stats = stats.New()
	}
	an, err := actor.Start(actor.Config{Name: o.Name, Listen: o.Listen, Cookie: o.Cookie, Logger: o.Logger})
	if err != nil {
		return nil, err
	}
	n := &Node{Actor: an, opts: o}
	defer func() {
		if err != nil {
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			n.Stop(sctx)
		}
	}()
	var prov cluster.Provider
	if o.Consul != "" {
		prov = cluster.Consul(cluster.ConsulConfig{Address: o.Consul, Service: "umbrella", TTL: 2 * time.Second, Logger: o.Logger})
	} else {
		prov = cluster.Embedded(cluster.EmbeddedConfig{Seeds: o.Seeds, Interval: 100 * time.Millisecond, LockDir: o.LockDir})
	}
	if n.Cluster, err = cluster.Join(ctx, an, cluster.Config{Provider: prov, Logger: o.Logger}); err != nil {
		return nil, fmt.Errorf("join the cluster: %w", err)
	}
	if n.apps, err = supervisor.NewAppController(ctx, an); err != nil {
		return nil, err
	}
	if n.dc, err = distapp.NewCoordinator(an, n.apps); err != nil {
		return nil, err
	}
	if _, err := an.Spawn(ctx, &status{n: n}, actor.WithName(StatusProcess)); err != nil {
		return nil, err
	}
	for _, a := range o.Release.Apps {
		if err := n.startApp(ctx, a); err != nil {
			return nil, fmt.Errorf("start %s: %w", a.Application.Name, err)
		}
	}
	return n, nil
}

func (n *Node) startApp(ctx context.Context, a App) error {
	if !a.Distributed() {
		if err := n.apps.Load(a.Application); err != nil {
			return err
		}
		return n.apps.Start(ctx, a.Application.Name, supervisor.Permanent)
	}
	var others []string
	for _, group := range a.Nodes {
		for _, name := range group {
			if name != n.Actor.Name() {
				others = append(others, name)
			}
		}
	}
	return n.dc.Start(ctx, distapp.Spec{
		Application:  a.Application,
		Nodes:        a.Nodes,
		SyncOptional: others,
		SyncTimeout:  5 * time.Second,
	})
}

// Apps says what runs here: the release's applications, a distributed
// one as "name" where it runs here and "name (standby)" elsewhere.
func (n *Node) Apps() []string {
	var out []string
	for _, a := range n.opts.Release.Apps {
		name := a.Application.Name
		if a.Distributed() {
			if st, ok := n.dc.Status(name); !ok || st.Phase == "standby" {
				name += " (standby)"
			}
		}
		out = append(out, name)
	}
	return out
}

// Done is closed when the node stopped on its own (an application's
// tree gave up).
func (n *Node) Done() <-chan struct{} { return n.apps.Done() }

// Stop stops the distributed applications (a standby starts them at
// once), the others in reverse order, leaves the cluster and stops the
// node.
func (n *Node) Stop(ctx context.Context) error {
	var errs []error
	if n.dc != nil {
		errs = append(errs, n.dc.StopAll(ctx))
	}
	if n.apps != nil {
		errs = append(errs, n.apps.StopAll(ctx))
	}
	if n.Cluster != nil {
		errs = append(errs, n.Cluster.Leave(ctx))
	}
	errs = append(errs, n.Actor.Stop(ctx))
	return errors.Join(errs...)
}
