package supervisor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/switchboard-go/switchboard/actor"
)

// StartMode says why an application is starting: normally, or (for
// distributed applications) because its node failed over or takes over.
type StartMode int

const (
	Normal   StartMode = iota // a plain start
	Failover                  // restarted here after the node From died
	Takeover                  // taken over from the node From, which still runs it
)

// String is the mode as OTP writes it: normal, failover or takeover.
func (m StartMode) String() string {
	switch m {
	case Failover:
		return "failover"
	case Takeover:
		return "takeover"
	}
	return "normal"
}

// StartType is what an application's Start is told, as OTP's StartType.
type StartType struct {
	Mode StartMode
	From string // the node the application came from, for Failover and Takeover
}

// Application is a named component: a top supervisor started by Start, the
// applications it needs, and a Stop callback.
type Application struct {
	Name string
	// Deps are started before this application and stopped after it.
	Deps []string
	// Start starts the application's top supervisor (on n, not linked) and
	// returns its PID. Required.
	Start func(ctx context.Context, n *actor.Node, t StartType) (*actor.PID, error)
	// Stop runs after the supervision tree has stopped. Optional.
	Stop func(ctx context.Context)
}

// Validate reports what is wrong with the application.
func (a Application) Validate() error {
	if a.Name == "" || a.Start == nil {
		return fmt.Errorf("%w: application needs a Name and a Start", ErrInvalidSpec)
	}
	return nil
}

// AppController is a node's application controller: it loads applications,
// starts them with their dependencies, stops them in reverse order, and
// applies their restart type when a top supervisor exits on its own:
// Temporary is reported; Transient is reported if the exit is normal (nil),
// and otherwise, like Permanent always, stops every other application and
// the node (Done closes, Err says why).
type AppController struct {
	n       *actor.Node
	log     *slog.Logger
	watcher *actor.PID

	mu      sync.Mutex
	loaded  map[string]Application
	running []*runningApp // in start order
	err     error
	done    chan struct{}
	halting bool
}

type runningApp struct {
	app      Application
	restart  Restart
	sup      *actor.PID
	stopping bool
}

// AppInfo describes a running application.
type AppInfo struct {
	Name       string
	Restart    Restart
	Supervisor *actor.PID
}

// NewAppController starts the application controller of n.
func NewAppController(ctx context.Context, n *actor.Node) (*AppController, error) {
	c := &AppController{n: n, log: n.Logger(), loaded: map[string]Application{}, done: make(chan struct{})}
	pid, err := n.Spawn(ctx, &appWatcher{c: c})
	if err != nil {
		return nil, err
	}
	c.watcher = pid
	return c, nil
}

// Load makes app known to the controller.
func (c *AppController) Load(app Application) error {
	if err := app.Validate(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.loaded[app.Name]; ok {
		return fmt.Errorf("%w: %q", ErrAlreadyLoaded, app.Name)
	}
	c.loaded[app.Name] = app
	return nil
}

// StartOption configures AppController.Start.
type StartOption func(*StartType)

// WithStartType passes t to the application's Start instead of Normal.
func WithStartType(t StartType) StartOption { return func(s *StartType) { *s = t } }

// Start starts the application name and, first, those it depends on that
// are not running, all with the restart type restart (Erlang's
// application:ensure_all_started). Starting a running application is a
// no-op.
func (c *AppController) Start(ctx context.Context, name string, restart Restart, opts ...StartOption) error {
	var st StartType
	for _, o := range opts {
		o(&st)
	}
	order, err := c.startOrder(name)
	if err != nil {
		return err
	}
	for _, app := range order {
		t := StartType{}
		if app.Name == name {
			t = st
		}
		if err := c.startOne(ctx, app, restart, t); err != nil {
			return err
		}
	}
	return nil
}

// startOrder lists name's dependencies depth first, then name.
func (c *AppController) startOrder(name string) ([]Application, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var order []Application
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(n string, path []string) error
	visit = func(n string, path []string) error {
		switch state[n] {
		case 1:
			return fmt.Errorf("%w: %v", ErrDependencyCycle, append(path, n))
		case 2:
			return nil
		}
		app, ok := c.loaded[n]
		if !ok {
			return fmt.Errorf("%w: %q", ErrUnknownApplication, n)
		}
		state[n] = 1
		for _, d := range app.Deps {
			if err := visit(d, append(path, n)); err != nil {
				return err
			}
		}
		state[n] = 2
		order = append(order, app)
		return nil
	}
	return order, visit(name, nil)
}

func (c *AppController) startOne(ctx context.Context, app Application, restart Restart, t StartType) error {
	c.mu.Lock()
	if c.halting {
		c.mu.Unlock()
		return fmt.Errorf("%w: node is stopping", actor.ErrNodeStopped)
	}
	if c.find(app.Name) >= 0 {
		c.mu.Unlock()
		return nil
	}
	c.mu.Unlock()
	sup, err := app.Start(ctx, c.n, t)
	if err != nil {
		return fmt.Errorf("supervisor: start application %q: %w", app.Name, err)
	}
	c.mu.Lock()
	c.running = append(c.running, &runningApp{app: app, restart: restart, sup: sup})
	c.mu.Unlock()
	if _, err := c.n.Call(ctx, c.watcher, watchReq{name: app.Name, sup: sup}); err != nil {
		return err
	}
	c.log.Info("application started", "application", app.Name, "restart", restart.String())
	return nil
}

func (c *AppController) find(name string) int {
	return slices.IndexFunc(c.running, func(r *runningApp) bool { return r.app.Name == name })
}

// Stop stops the application name, after stopping (in reverse start order)
// the running applications that depend on it.
func (c *AppController) Stop(ctx context.Context, name string) error {
	c.mu.Lock()
	if c.find(name) < 0 {
		c.mu.Unlock()
		return fmt.Errorf("%w: %q", ErrNotRunning, name)
	}
	affected := map[string]bool{name: true}
	var victims []*runningApp
	for _, r := range c.running { // start order: dependents come after their deps
		if affected[r.app.Name] || slices.ContainsFunc(r.app.Deps, func(d string) bool { return affected[d] }) {
			affected[r.app.Name] = true
			victims = append(victims, r)
		}
	}
	c.mu.Unlock()
	var errs []error
	for _, r := range slices.Backward(victims) {
		errs = append(errs, c.stopOne(ctx, r))
	}
	return errors.Join(errs...)
}

// StopAll stops every running application in reverse start order.
func (c *AppController) StopAll(ctx context.Context) error {
	c.mu.Lock()
	all := slices.Clone(c.running)
	c.mu.Unlock()
	var errs []error
	for _, r := range slices.Backward(all) {
		errs = append(errs, c.stopOne(ctx, r))
	}
	return errors.Join(errs...)
}

func (c *AppController) stopOne(ctx context.Context, r *runningApp) error {
	c.mu.Lock()
	if r.stopping || c.find(r.app.Name) < 0 {
		c.mu.Unlock()
		return nil
	}
	r.stopping = true
	c.mu.Unlock()
	err := c.n.StopProcess(ctx, r.sup, actor.ErrShutdown)
	if errors.Is(err, actor.ErrNoProcess) {
		err = nil // already gone
	}
	if r.app.Stop != nil {
		r.app.Stop(ctx)
	}
	c.mu.Lock()
	if i := slices.Index(c.running, r); i >= 0 {
		c.running = slices.Delete(c.running, i, i+1)
	}
	c.mu.Unlock()
	c.log.Info("application stopped", "application", r.app.Name)
	return err
}

// Running lists the running applications in start order.
func (c *AppController) Running() []AppInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]AppInfo, len(c.running))
	for i, r := range c.running {
		out[i] = AppInfo{Name: r.app.Name, Restart: r.restart, Supervisor: r.sup}
	}
	return out
}

// Done is closed when an application's exit has stopped the node.
func (c *AppController) Done() <-chan struct{} { return c.done }

// Err says which application took the node down, once Done is closed.
func (c *AppController) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// exited handles the exit of an application's top supervisor that no Stop
// asked for. It runs on the watcher's goroutine.
func (c *AppController) exited(name string, sup *actor.PID, reason error) {
	c.mu.Lock()
	i := c.find(name)
	if i < 0 || !c.running[i].sup.Equal(sup) || c.running[i].stopping {
		c.mu.Unlock()
		return
	}
	r := c.running[i]
	c.running = slices.Delete(c.running, i, i+1)
	halt := (r.restart == Permanent || (r.restart == Transient && reason != nil)) && !c.halting
	if halt {
		c.halting = true
		c.err = fmt.Errorf("%w: %q (%s): %w", ErrApplicationExited, name, r.restart, reasonOrNormal(reason))
	}
	c.mu.Unlock()
	if r.app.Stop != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		r.app.Stop(ctx)
		cancel()
	}
	c.log.Warn("application exited", "application", name, "restart", r.restart.String(), "reason", reason)
	if !halt {
		return
	}
	// Stopping the node waits for this watcher process, so it cannot run
	// here; the goroutine ends when the node has stopped.
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = c.StopAll(ctx)
		_ = c.n.Stop(ctx)
		close(c.done)
	}()
}

func reasonOrNormal(r error) error {
	if r == nil {
		return errors.New("normal")
	}
	return r
}

// appWatcher monitors the top supervisors for the controller.
type appWatcher struct {
	actor.BaseServer
	c     *AppController
	names map[actor.Ref]string
}

type watchReq struct {
	name string
	sup  *actor.PID
}

func (w *appWatcher) HandleCall(p *actor.Process, msg any) (any, error) {
	if m, ok := msg.(watchReq); ok {
		if w.names == nil {
			w.names = map[actor.Ref]string{}
		}
		w.names[p.Monitor(m.sup)] = m.name
		return nil, nil
	}
	return nil, actor.ErrUnhandled
}

func (w *appWatcher) HandleInfo(_ *actor.Process, msg any) {
	if d, ok := msg.(actor.Down); ok {
		name := w.names[d.Ref]
		delete(w.names, d.Ref)
		w.c.exited(name, d.PID, d.Reason)
	}
}
