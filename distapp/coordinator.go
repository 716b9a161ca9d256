package distapp

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/cluster"
	"github.com/switchboard-go/switchboard/internal/distapppb"
	"github.com/switchboard-go/switchboard/supervisor"
)

// Names in the cluster's directory and its locks, for application app.
func presentName(app string) string { return "distapp:" + app }         // its controller runs here
func runName(app string) string     { return "distapp.running:" + app } // it runs here
func lockKey(app string) string     { return "distapp:" + app }

// ProcessName is the registered name of the manager of application app on
// every node that runs its controller.
func ProcessName(app string) string { return "switchboard:distapp:" + app }

const runPrefix = "distapp.running:"

// Coordinator runs the distributed applications of one node: for each, a
// manager process that stands by, starts the application when this node
// should run it (holding its lock), and hands it over in a takeover. The
// node must have joined a cluster whose provider offers locks
// (cluster.Consul, cluster.Embedded). Safe for concurrent use.
type Coordinator struct {
	n      *actor.Node
	apps   *supervisor.AppController
	cl     *cluster.Cluster
	locker cluster.Locker
	log    *slog.Logger

	mu       sync.Mutex
	managers map[string]*actor.PID
	hooks    map[string]*hook // of the applications loaded into apps by this controller
	status   map[string]Status
}

// Status is what this node's manager of an application knows.
type Status struct {
	// Phase is "standby", "running" (here, holding its lock) or "handing"
	// (running here, its lock released for a takeover by another node).
	Phase string
	// Holder is the node this node last saw running the application:
	// the From of a failover started here. Empty if it saw none yet.
	Holder string
	// Gone is when this node saw the application run nowhere, the start
	// of the failover timeout; zero while it runs somewhere.
	Gone time.Time
}

// hook tells the current manager of an application that its tree stopped
// when the manager did not stop it (it exited on its own).
type hook struct {
	n    *actor.Node
	mu   sync.Mutex
	pid  *actor.PID
	ours bool // the manager is stopping it
}

func (h *hook) stopped() {
	h.mu.Lock()
	pid, ours := h.pid, h.ours
	h.mu.Unlock()
	if pid != nil && !ours {
		_ = h.n.Send(pid, appStoppedMsg{})
	}
}

func (h *hook) set(pid *actor.PID, ours bool) {
	h.mu.Lock()
	h.pid, h.ours = pid, ours
	h.mu.Unlock()
}

// NewCoordinator returns the distributed-application controller of n,
// which starts applications through apps (the node's application
// controller).
func NewCoordinator(n *actor.Node, apps *supervisor.AppController) (*Coordinator, error) {
	cl := cluster.From(n)
	if cl == nil {
		return nil, fmt.Errorf("%w: join a cluster first", ErrNoCluster)
	}
	lk, err := cl.Locker()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoCluster, err)
	}
	return &Coordinator{
		n: n, apps: apps, cl: cl, locker: lk, log: n.Logger(),
		managers: map[string]*actor.PID{}, hooks: map[string]*hook{}, status: map[string]Status{},
	}, nil
}

// Start starts the distributed application of spec on this node, which
// must be one of spec.Nodes: its manager announces the node, waits for
// the sync nodes (see Spec.SyncMandatory), then takes part. Start returns
// when the node takes part — running the application, or standing by —
// or with a *SyncError (ErrSyncTimeout) if a mandatory node did not come.
func (c *Coordinator) Start(ctx context.Context, spec Spec) error {
	if err := spec.Validate(); err != nil {
		return err
	}
	spec.defaults()
	name := spec.Application.Name
	if priority(spec.Nodes, c.n.Name()) < 0 {
		return fmt.Errorf("%w: %q on %s", ErrNotListed, name, c.n.Name())
	}
	c.mu.Lock()
	if c.managers[name] != nil {
		c.mu.Unlock()
		return fmt.Errorf("%w: %q", ErrStarted, name)
	}
	c.managers[name] = &actor.PID{} // reserved
	h := c.hooks[name]
	c.mu.Unlock()
	fail := func(err error) error {
		c.mu.Lock()
		delete(c.managers, name)
		c.mu.Unlock()
		return err
	}
	if h == nil {
		h = &hook{n: c.n}
		app := spec.Application
		userStop := app.Stop
		app.Stop = func(ctx context.Context) {
			if userStop != nil {
				userStop(ctx)
			}
			h.stopped()
		}
		if err := c.apps.Load(app); err != nil {
			return fail(err)
		}
		c.mu.Lock()
		c.hooks[name] = h
		c.mu.Unlock()
	}
	m := newManager(c, spec, h)
	pid, err := c.n.Spawn(ctx, m, actor.WithName(ProcessName(name)))
	if err != nil {
		return fail(err)
	}
	c.mu.Lock()
	c.managers[name] = pid
	c.mu.Unlock()
	if err := c.awaitSync(ctx, &spec); err != nil {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = c.n.StopProcess(sctx, pid, nil)
		return fail(err)
	}
	if _, err := c.n.Call(ctx, pid, goReq{}); err != nil {
		return err
	}
	return nil
}

// awaitSync waits until the sync nodes have started their controller of
// the application, or SyncTimeout.
func (c *Coordinator) awaitSync(ctx context.Context, spec *Spec) error {
	need := slices.Concat(spec.SyncMandatory, spec.SyncOptional)
	if len(need) == 0 {
		return nil
	}
	wake := make(chan struct{}, 1)
	stop := c.cl.OnEvent(func(cluster.Event) {
		select {
		case wake <- struct{}{}:
		default:
		}
	})
	defer stop()
	deadline := time.NewTimer(spec.SyncTimeout)
	defer deadline.Stop()
	// Directory entries come without events: look again now and then.
	poll := time.NewTicker(50 * time.Millisecond)
	defer poll.Stop()
	timedOut := false
	for {
		present := nodesOf(c.cl.LookupAll(presentName(spec.Application.Name)))
		var missing, missingMandatory []string
		for _, n := range need {
			if !slices.Contains(present, n) {
				missing = append(missing, n)
				if slices.Contains(spec.SyncMandatory, n) {
					missingMandatory = append(missingMandatory, n)
				}
			}
		}
		if len(missing) == 0 {
			return nil
		}
		if timedOut {
			if len(missingMandatory) > 0 {
				return &SyncError{App: spec.Application.Name, Missing: missingMandatory, Timeout: spec.SyncTimeout}
			}
			c.log.Info("distributed application: optional sync nodes missing", "application", spec.Application.Name, "missing", missing)
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline.C:
			timedOut = true
		case <-wake:
		case <-poll.C:
		}
	}
}

func nodesOf(es []cluster.Entry) []string {
	out := make([]string, 0, len(es))
	for _, e := range es {
		if !slices.Contains(out, e.Node) {
			out = append(out, e.Node)
		}
	}
	return out
}

// Stop stops the application's manager on this node: if the application
// runs here it stops, and a standby starts it (Failover from this node).
func (c *Coordinator) Stop(ctx context.Context, name string) error {
	c.mu.Lock()
	pid := c.managers[name]
	c.mu.Unlock()
	if pid == nil || pid.Id == "" {
		return fmt.Errorf("%w: %q", ErrUnknown, name)
	}
	_, err := c.n.Call(ctx, pid, stopReq{})
	if err := c.n.StopProcess(ctx, pid, nil); err != nil && !errors.Is(err, actor.ErrNoProcess) {
		return err
	}
	c.mu.Lock()
	delete(c.managers, name)
	c.mu.Unlock()
	return err
}

// StopAll stops every application of this controller.
func (c *Coordinator) StopAll(ctx context.Context) error {
	c.mu.Lock()
	var names []string
	for name := range c.managers {
		names = append(names, name)
	}
	c.mu.Unlock()
	var errs []error
	for _, name := range names {
		if err := c.Stop(ctx, name); err != nil && !errors.Is(err, ErrUnknown) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Takeover moves the application to node (a name of its Nodes, this node
// or another): that node takes it over from the node running it, which
// stops its instance once the new one has started (OTP's
// application:takeover/2, asked of any node).
func (c *Coordinator) Takeover(ctx context.Context, name, node string) error {
	pid := actor.NamedPID(c.n.Address(), ProcessName(name))
	if node != c.n.Name() {
		m, ok := c.cl.Member(node)
		if !ok {
			return fmt.Errorf("%w: %q: node %s is not a member", ErrTakeover, name, node)
		}
		pid = actor.NamedPID(m.Address, ProcessName(name))
	}
	if _, err := c.n.Call(ctx, pid, &distapppb.Move{App: name}); err != nil {
		if errors.Is(err, actor.ErrNoProcess) {
			return fmt.Errorf("%w: %q on %s", ErrUnknown, name, node)
		}
		return err
	}
	return nil
}

// Where returns the node running the application, as the cluster's
// directory says (the newest, during a takeover's handover).
func (c *Coordinator) Where(name string) (node string, ok bool) {
	es := c.cl.LookupAll(runName(name))
	if len(es) == 0 {
		return "", false
	}
	return slices.MaxFunc(es, func(a, b cluster.Entry) int { return cmp.Compare(a.Created, b.Created) }).Node, true
}

// Running reports whether the application runs on this node.
func (c *Coordinator) Running(name string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.status[name].Phase
	return p == running.String() || p == handing.String()
}

// Status returns what this node's manager of the application knows.
func (c *Coordinator) Status(name string) (Status, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.status[name]
	return s, ok
}

func (c *Coordinator) setStatus(name string, s *Status) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s == nil {
		delete(c.status, name)
	} else {
		c.status[name] = *s
	}
}

// load counts the distributed applications each node runs.
func (c *Coordinator) load() map[string]int {
	out := map[string]int{}
	for _, e := range c.cl.Names() {
		if strings.HasPrefix(e.Name, runPrefix) {
			out[e.Node]++
		}
	}
	return out
}
