package actor

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/switchboard-go/switchboard/internal/spawnpb"
	"github.com/switchboard-go/switchboard/internal/wire"
)

// spawnID is the reserved process id to which other nodes send their
// spawn requests: the node answers them itself, with no process of its
// own.
const spawnID = "$spawn"

// SpawnFactory builds the Server of a process that another node spawns
// with SpawnOn, from the args that node sent (nil if it sent none). It runs
// on the new process's goroutine, just before the server's Init; an error
// or a panic fails the spawn as Init's would (ErrInit).
type SpawnFactory func(args proto.Message) (Server, error)

// spawnables are the factories a node allows other nodes to spawn.
type spawnables struct {
	mu sync.RWMutex
	m  map[string]spawnable
}

type spawnable struct {
	factory SpawnFactory
	nodes   []string // the addresses allowed; empty: any node
}

// AllowSpawn lets other nodes start processes built by factory under
// name, with SpawnOn, SpawnLinkOn and SpawnMonitorOn: remote spawn is
// opt-in, name by name, as Ergo's EnableSpawn; a name not allowed is
// ErrUnknownSpawn on the spawning side. With nodes (transport addresses,
// as Node.Address returns them), only those nodes and this one may spawn
// it, and any other gets ErrSpawnRefused; without, any node that may talk
// to this one (the cluster's cookie, TLS) may. Allowing a name again
// replaces its factory and nodes. The name must not be empty, nor factory
// nil (ErrInvalidSpawn).
func (n *Node) AllowSpawn(name string, factory SpawnFactory, nodes ...string) error {
	if name == "" || factory == nil {
		return fmt.Errorf("%w: AllowSpawn needs a name and a factory", ErrInvalidSpawn)
	}
	n.spawnables.mu.Lock()
	defer n.spawnables.mu.Unlock()
	if n.spawnables.m == nil {
		n.spawnables.m = map[string]spawnable{}
	}
	n.spawnables.m[name] = spawnable{factory: factory, nodes: slices.Clone(nodes)}
	return nil
}

// DisallowSpawn withdraws name: spawn requests for it fail with
// ErrUnknownSpawn from now on. Processes spawned already keep running.
func (n *Node) DisallowSpawn(name string) {
	n.spawnables.mu.Lock()
	delete(n.spawnables.m, name)
	n.spawnables.mu.Unlock()
}

// lookup finds the factory of name for a request from the node at from.
func (s *spawnables) lookup(name, from, self string) (SpawnFactory, error) {
	s.mu.RLock()
	e, ok := s.m[name]
	s.mu.RUnlock()
	switch {
	case !ok:
		return nil, fmt.Errorf("%w: %q", ErrUnknownSpawn, name)
	case from != self && len(e.nodes) > 0 && !slices.Contains(e.nodes, from):
		return nil, fmt.Errorf("%w: %q may not be spawned from %s", ErrSpawnRefused, name, from)
	}
	return e.factory, nil
}

// starter is what a process started by a spawn request carries until its
// Init has returned: how to build its server, whom to answer, and the
// link and monitor of the process that asked for it.
type starter struct {
	build  func() (Server, error)
	reply  replyTo
	name   string        // the factory's, for errors
	left   time.Duration // the caller's time left; 0: no bound
	timer  *time.Timer   // kills the process if Init outlives the caller's deadline
	sender *PID          // the process that asked: the other end of the link and monitor
	link   bool
	mon    *monKey
}

// spawnFor starts the process that req asks for, on behalf of from (the
// frame's sender, or a local caller), answering rt with its PID once its
// Init has returned, or with an error. It never blocks: it runs on the
// reader goroutine of from's connection.
func (n *Node) spawnFor(from *PID, rt replyTo, msg any) {
	req, ok := msg.(*spawnpb.SpawnRequest)
	if !ok || from == nil {
		n.stats.spawnsRefused.Add(1)
		n.reply(rt, nil, fmt.Errorf("%w: a spawn request must be a SpawnRequest, got %T", ErrInvalidSpawn, msg))
		return
	}
	factory, err := n.spawnables.lookup(req.GetName(), from.Address, n.addr)
	if err != nil {
		n.stats.spawnsRefused.Add(1)
		n.reply(rt, nil, err)
		return
	}
	var args proto.Message
	if a := req.GetArgs(); a != nil {
		if args, err = wire.UnpackAny(a); err != nil {
			n.stats.spawnsRefused.Add(1)
			n.reply(rt, nil, fmt.Errorf("%w: the args of %q: %w", ErrInvalidSpawn, req.GetName(), err))
			return
		}
	}
	st := &starter{build: func() (Server, error) { return factory(args) }, reply: rt, sender: from,
		link: req.GetLink(), name: req.GetName(), left: time.Duration(req.GetTimeoutNanos())}
	if r := req.GetMonitorRef(); r != 0 {
		st.mon = &monKey{addr: from.Address, ref: Ref(r)}
	}
	o := spawnOptions{name: req.GetRegister(), trapExit: req.GetTrapExit(), starter: st}
	// Counted first: the process may answer its caller (an Init error)
	// before startProcess returns.
	n.stats.spawned.Add(1)
	n.spawning.RLock()
	_, _, _, err = n.startProcess(BaseServer{}, nil, []SpawnOption{func(so *spawnOptions) { *so = o }})
	n.spawning.RUnlock()
	if err != nil {
		n.stats.spawned.Add(^uint64(0))
		n.reply(rt, nil, err)
	}
}

// adoptStarter sets up, on a process being started, the link and monitor
// its starter asked for, and the timer of its deadline, before the
// process can be found or run.
func (p *Process) adoptStarter() {
	st := p.starter
	if st.left > 0 {
		n := p.node
		st.timer = time.AfterFunc(st.left, func() {
			// Under the spawn lock, which Stop takes once before it ends
			// processes: a timer is done with the node before it stops.
			n.spawning.RLock()
			defer n.spawning.RUnlock()
			if !n.stopping.Load() && p.finish(ErrKilled) {
				n.reply(st.reply, nil, fmt.Errorf("%w: the spawn of %q outlived its caller's deadline", ErrTimeout, st.name))
			}
		})
	}
	if st.link {
		p.putLink(st.sender)
	}
	if st.mon != nil {
		p.putMon(*st.mon, st.sender)
	}
}

// dropStarter undoes the starter's link and monitor of a process whose
// start failed, so that the starter gets neither an exit signal nor a
// Down from it: its spawn fails instead.
func (p *Process) dropStarter() {
	st := p.starter
	if st == nil {
		return
	}
	p.mu.Lock()
	if st.link {
		p.links.del(keyOf(st.sender))
	}
	if st.mon != nil {
		p.mons.del(*st.mon)
	}
	p.mu.Unlock()
}

// answerStarter tells the starter how Init went: the PID, or err. The
// timer, if it fired first, has answered already.
func (p *Process) answerStarter(err error) {
	st := p.starter
	if st == nil {
		return
	}
	p.starter = nil
	if st.timer != nil && !st.timer.Stop() {
		return // the timer killed the process and answered
	}
	if err != nil {
		p.node.reply(st.reply, nil, err)
		return
	}
	p.node.reply(st.reply, p.pid, nil)
}
