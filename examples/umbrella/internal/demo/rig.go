package demo

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/cluster"
	"github.com/switchboard-go/switchboard/examples/umbrella/internal/statuspb"
	"github.com/switchboard-go/switchboard/patterns"
)

// Node names of the release, on one machine.
const host = "@localhost"

// rig is the running release as the demo sees it: its own node (a
// member of the cluster that runs no application: the clients), and the
// nodes' processes.
type rig struct {
	cfg    Config
	dir    string
	cookie string
	self   *actor.Node
	cl     *cluster.Cluster
	client *patterns.Client
	core   [2]string

	mu    sync.Mutex
	procs map[string]*proc  // by node name, in the order of names
	names []string          // every node, in start order
	addrs map[string]string // node name -> transport address, while up
	ws    *wsClients
}

func startRig(ctx context.Context, c Config, dir string) (*rig, error) {
	r := &rig{cfg: c, dir: dir, cookie: newCookie(), procs: map[string]*proc{}, addrs: map[string]string{},
		core: [2]string{"core-a" + host, "core-b" + host}}
	var err error
	r.self, err = actor.Start(actor.Config{Name: "demo" + host, Listen: "127.0.0.1:0", Cookie: r.cookie, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, err
	}
	var prov cluster.Provider
	if c.Consul != "" {
		prov = cluster.Consul(cluster.ConsulConfig{Address: c.Consul})
	} else {
		prov = cluster.Embedded(cluster.EmbeddedConfig{Interval: 100 * time.Millisecond, LockDir: filepath.Join(dir, "locks")})
	}
	if r.cl, err = cluster.Join(ctx, r.self, cluster.Config{Provider: prov}); err != nil {
		return r, err
	}
	r.client = patterns.NewClient(r.self)
	roles := map[string]string{r.core[0]: "core", r.core[1]: "core"}
	r.names = []string{r.core[0], r.core[1]}
	for i := 1; i <= c.Workers; i++ {
		n := fmt.Sprintf("work-%d%s", i, host)
		roles[n], r.names = "worker", append(r.names, n)
	}
	for i := 1; i <= c.Access; i++ {
		n := fmt.Sprintf("access-%d%s", i, host)
		roles[n], r.names = "access", append(r.names, n)
	}
	rctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	// core-b first: it starts every hub, then core-a, starting, takes over
	// those that prefer it (users_core, time_hub). Started together, each
	// might start the hubs it found running nowhere, and one that is up
	// all along never takes over: the placement would be luck.
	if err := r.spawn(r.core[1], "core"); err != nil {
		return r, err
	}
	if err := r.await(rctx, r.core[1]); err != nil {
		return r, err
	}
	for _, n := range r.names {
		if n == r.core[1] {
			continue
		}
		if err := r.spawn(n, roles[n]); err != nil {
			return r, err
		}
	}
	for _, n := range r.names {
		if n == r.core[1] {
			continue
		}
		if err := r.await(rctx, n); err != nil {
			return r, err
		}
	}
	if err := r.awaitServices(rctx); err != nil {
		return r, err
	}
	r.ws = newWSClients(r)
	if err := r.ws.open(rctx); err != nil {
		return r, err
	}
	return r, nil
}

// spawn starts node name of role.
func (r *rig) spawn(name, role string) error {
	// The release files name the core nodes; the environment names
	// this node and says how it joins (release's overrides).
	env := []string{"SWITCHBOARD_NODE_NAME=" + name, "SWITCHBOARD_NODE_COOKIE=" + r.cookie}
	if r.cfg.Consul != "" {
		env = append(env, "SWITCHBOARD_NODE_CONSUL="+r.cfg.Consul)
	} else {
		env = append(env, "SWITCHBOARD_NODE_SEEDS="+r.self.Address(), "SWITCHBOARD_NODE_LOCK_DIR="+filepath.Join(r.dir, "locks"))
	}
	p, err := spawn(r.cfg.Exe, r.dir, name, role, env)
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.procs[name] = p
	delete(r.addrs, name)
	r.mu.Unlock()
	return nil
}

// await waits for node name's READY.
func (r *rig) await(ctx context.Context, name string) error {
	r.mu.Lock()
	p := r.procs[name]
	r.mu.Unlock()
	addr, err := p.await(ctx)
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.addrs[name] = addr
	r.mu.Unlock()
	return nil
}

// kill kills node name with SIGKILL.
func (r *rig) kill(name string) {
	r.mu.Lock()
	p := r.procs[name]
	delete(r.addrs, name)
	r.mu.Unlock()
	p.Kill()
}

// shutdown stops every node cleanly (the WebSocket clients first), then
// the demo's own node; a node that does not stop within 15 s is killed.
// It returns the nodes that had to be killed, and the processes still
// alive after it (none: each was waited for).
func (r *rig) shutdown() (unclean []string, alive int) {
	if r.ws != nil {
		r.ws.close()
	}
	r.mu.Lock()
	procs := make([]*proc, 0, len(r.procs))
	for _, n := range r.names {
		if p, ok := r.procs[n]; ok {
			procs = append(procs, p)
		}
	}
	r.mu.Unlock()
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, p := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if !p.Stop(15 * time.Second) {
				mu.Lock()
				unclean = append(unclean, short(p.name))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for _, p := range procs {
		if p.Alive() {
			alive++
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if r.cl != nil {
		_ = r.cl.Leave(ctx)
	}
	_ = r.self.Stop(ctx)
	return unclean, alive
}

// addr returns the transport address of node name, if it is up.
func (r *rig) addr(name string) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	a, ok := r.addrs[name]
	return a, ok
}

// nodeOf names the node at a transport address.
func (r *rig) nodeOf(addr string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	for n, a := range r.addrs {
		if a == addr {
			return short(n)
		}
	}
	return addr
}

// byRole lists the nodes of a role.
func (r *rig) byRole(role string) []string {
	var out []string
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range r.names {
		if r.procs[n].role == role {
			out = append(out, n)
		}
	}
	return out
}

// where names the node that runs a directory entry ("" if none).
func (r *rig) where(entry string) string {
	for _, e := range r.cl.LookupAll(entry) {
		return e.Node
	}
	return ""
}

// status asks node name for its Status.
func (r *rig) status(ctx context.Context, name string) (*statuspb.Status, error) {
	addr, ok := r.addr(name)
	if !ok {
		return nil, fmt.Errorf("%s is down", name)
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	v, err := r.self.Call(ctx, actor.NamedPID(addr, "umbrella.status"), &statuspb.StatusRequest{})
	if err != nil {
		return nil, err
	}
	st, ok := v.(*statuspb.Status)
	if !ok {
		return nil, fmt.Errorf("%s answered %T", name, v)
	}
	return st, nil
}

// statuses asks every node that is up, in parallel.
func (r *rig) statuses(ctx context.Context) map[string]*statuspb.Status {
	out := map[string]*statuspb.Status{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, n := range r.names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if st, err := r.status(ctx, n); err == nil {
				mu.Lock()
				out[n] = st
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return out
}

// sum adds a counter over the nodes' statuses.
func sum(sts map[string]*statuspb.Status, counter string) uint64 {
	var n uint64
	for _, st := range sts {
		n += st.GetCounters()[counter]
	}
	return n
}

// sumPrefix adds the counters whose names start with prefix.
func sumPrefix(sts map[string]*statuspb.Status, prefix string) uint64 {
	var n uint64
	for _, st := range sts {
		for k, v := range st.GetCounters() {
			if strings.HasPrefix(k, prefix) {
				n += v
			}
		}
	}
	return n
}

func short(name string) string { return strings.SplitN(name, "@", 2)[0] }

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
