package node

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/examples/umbrella/internal/stats"
	"github.com/switchboard-go/switchboard/examples/umbrella/releases"
	"github.com/switchboard-go/switchboard/release"
)

// Options say how a node starts.
type Options struct {
	// Release is a role (core, worker, access: the release file embedded
	// in the binary) or the path of a release file (ending in .toml).
	Release string
	// LookupEnv gives the environment's overrides; default os.LookupEnv.
	LookupEnv func(string) (string, bool)
	Logger    *slog.Logger
	// Stats is the set the applications count in; default a new one.
	Stats *stats.Set
	// Apps are applications the program offers beside the umbrella's,
	// which a release file may then name (a program that embeds the
	// umbrella's applications in a larger one, or a test's probe); a
	// name the umbrella already uses is refused.
	Apps release.Apps
	// Dial opens the node's connections to other nodes (release.Options.Dial).
	Dial func(ctx context.Context, addr string) (net.Conn, error)
}

// Node is a running node of the umbrella.
type Node struct {
	run  *release.Running
	rel  *release.Release
	role string
	st   *stats.Set
	log  *slog.Logger
}

// Load reads and checks the release of o without starting anything.
func Load(o Options) (*release.Release, string, error) {
	if o.LookupEnv == nil {
		o.LookupEnv = os.LookupEnv
	}
	if o.Stats == nil {
		o.Stats = stats.New()
	}
	var name, role string
	var data []byte
	var err error
	if strings.HasSuffix(o.Release, ".toml") {
		name, role = o.Release, strings.TrimSuffix(filepath.Base(o.Release), ".toml")
		if data, err = os.ReadFile(o.Release); err != nil {
			return nil, "", &release.Error{File: name, Err: release.ErrMissingFile, Detail: err.Error()}
		}
	} else if name, data, err = releases.Read(o.Release); err != nil {
		return nil, "", err
	} else {
		role = o.Release
	}
	apps := Apps(o.Stats)
	for n, a := range o.Apps {
		if _, ok := apps[n]; ok {
			return nil, "", fmt.Errorf("umbrella: the application %q is the umbrella's already", n)
		}
		apps[n] = a
	}
	rel, err := release.Parse(name, data, apps, o.LookupEnv)
	return rel, role, err
}

// Start loads the release of o and boots its node, with a status process
// ("umbrella.status") beside its applications.
func Start(ctx context.Context, o Options) (*Node, error) {
	if o.Stats == nil {
		o.Stats = stats.New()
	}
	rel, role, err := Load(o)
	if err != nil {
		return nil, err
	}
	run, err := rel.Start(ctx, release.Options{Logger: o.Logger, Dial: o.Dial})
	if err != nil {
		return nil, err
	}
	n := &Node{run: run, rel: rel, role: role, st: o.Stats, log: o.Logger}
	if n.log == nil {
		n.log = slog.New(slog.DiscardHandler)
	}
	n.takeOver(ctx)
	if _, err := run.Node().Spawn(ctx, &status{n: n}, actor.WithName(StatusProcess)); err != nil {
		_ = run.Stop(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("status process: %w", err)
	}
	return n, nil
}

// takeOver waits, for up to 10 s, until the distributed applications that
// prefer this node run here: distapp takes them over from the node running
// them when this node starts (trying again while that node does not yet see
// this one), and the node is reported ready once they have moved.
func (n *Node) takeOver(ctx context.Context) {
	dc, self := n.run.Distributed(), n.Actor().Name()
	if dc == nil {
		return
	}
	for _, a := range n.rel.Apps {
		if !a.Distributed() || !slices.Contains(a.Nodes[0], self) {
			continue
		}
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && ctx.Err() == nil; time.Sleep(20 * time.Millisecond) {
			if w, ok := dc.Where(a.Name); ok && w == self {
				break
			}
		}
	}
}

// Actor is the node.
func (n *Node) Actor() *actor.Node { return n.run.Node() }

// Apps says what runs here: the release's applications in start order, a
// distributed one as "name" where it runs here and "name (standby)"
// elsewhere.
func (n *Node) Apps() []string {
	var out []string
	for _, a := range n.rel.Apps {
		name := a.Name
		if a.Distributed() {
			if st, ok := n.run.Distributed().Status(name); !ok || st.Phase == "standby" {
				name += " (standby)"
			}
		}
		out = append(out, name)
	}
	return out
}

// Done is closed when the node stopped on its own (a permanent
// application's tree gave up).
func (n *Node) Done() <-chan struct{} { return n.run.Done() }

// Stop stops the node's applications (a standby starts the distributed
// ones at once), leaves the cluster and stops the node.
func (n *Node) Stop(ctx context.Context) error { return n.run.Stop(ctx) }
