package cluster

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/internal/clusterpb"
)

// EmbeddedConfig configures the embedded provider.
type EmbeddedConfig struct {
	// Seeds are transport addresses (host:port) of nodes to join through:
	// nodes of one process, of one machine or of other hosts (each node's
	// actor.Config.Listen must then be an address the others can dial, not
	// ":port" or "0.0.0.0:port": a node is known by the address its
	// listener reports). A node with no seeds is a cluster of its own until
	// another names it as a seed. A seed need not be up; it is tried again
	// every Interval.
	Seeds []string
	// Interval is how often seeds that are not up are tried again; default
	// 500 ms.
	Interval time.Duration
	// LockDir is the directory of the lock files behind Cluster.Locker
	// (see lock_embedded.go): nodes that share it share locks. Default: a
	// directory under os.TempDir(), per cookie. It must be on a local file
	// system of the one machine the nodes run on.
	LockDir string
}

// RegisteredName is the name of the embedded provider's process on every
// node.
const RegisteredName = "switchboard:cluster"

// Embedded returns the membership provider that needs nothing installed:
// each node runs a cluster process that greets its seeds; nodes that greet
// each other tell each other of the members and directory entries they
// know, and monitor each other's cluster process, so a node that stops, dies
// or is cut off is seen as NodeDown as soon as its connection breaks. It is
// the default of Config. Membership is as good as the connections: unlike
// Consul, nothing outside the nodes arbitrates a partition.
func Embedded(cfg EmbeddedConfig) Provider {
	if cfg.Interval <= 0 {
		cfg.Interval = 500 * time.Millisecond
	}
	return &embedded{cfg: cfg}
}

type embedded struct {
	cfg EmbeddedConfig
	n   *actor.Node
	pid *actor.PID
	mu  sync.Mutex
}

type (
	publishReq  struct{ e Entry }
	withdrawReq struct{ name string }
	tick        struct{}
)

func (e *embedded) Join(ctx context.Context, n *actor.Node, self Member, s Sink) error {
	for _, seed := range e.cfg.Seeds {
		if seed == "" {
			return fmt.Errorf("%w: empty seed address", ErrConfig)
		}
	}
	if len(e.cfg.Seeds) > 0 && strings.HasPrefix(self.Address, "local:") {
		return fmt.Errorf("%w: a node with seeds needs a transport (actor.Config.Listen)", ErrConfig)
	}
	srv := &seedServer{
		cfg:   e.cfg,
		self:  toInfo(self),
		sink:  s,
		peers: map[string]*peerState{},
		own:   map[string]*clusterpb.DirEntry{},
	}
	pid, err := n.Spawn(ctx, srv, actor.WithName(RegisteredName))
	if err != nil {
		return err
	}
	e.mu.Lock()
	e.n, e.pid = n, pid
	e.mu.Unlock()
	return nil
}

func (e *embedded) call(ctx context.Context, msg any) error {
	e.mu.Lock()
	n, pid := e.n, e.pid
	e.mu.Unlock()
	if pid == nil {
		return ErrLeft
	}
	_, err := n.Call(ctx, pid, msg)
	return err
}

func (e *embedded) Register(ctx context.Context, en Entry) error {
	return e.call(ctx, publishReq{en})
}

func (e *embedded) Unregister(ctx context.Context, name string) error {
	return e.call(ctx, withdrawReq{name})
}

// Leave stops the cluster process, which says Bye to its peers.
func (e *embedded) Leave(ctx context.Context) error {
	e.mu.Lock()
	n, pid := e.n, e.pid
	e.pid = nil
	e.mu.Unlock()
	if pid == nil {
		return nil
	}
	if err := n.StopProcess(ctx, pid, nil); err != nil && !errorsIsNoProcess(err) {
		return err
	}
	return nil
}

// seedServer is the cluster process of the embedded provider.
type seedServer struct {
	actor.BaseServer
	cfg   EmbeddedConfig
	self  *clusterpb.NodeInfo
	sink  Sink
	p     *actor.Process
	peers map[string]*peerState // by node name
	own   map[string]*clusterpb.DirEntry
}

type peerState struct {
	info    *clusterpb.NodeInfo
	ref     actor.Ref
	entries []*clusterpb.DirEntry
}

func (s *seedServer) Init(p *actor.Process) error {
	s.p = p
	s.report()
	s.greetSeeds()
	p.SendAfter(s.cfg.Interval, tick{})
	return nil
}

func (s *seedServer) HandleCall(p *actor.Process, msg any) (any, error) {
	switch m := msg.(type) {
	case publishReq:
		s.own[m.e.Name] = &clusterpb.DirEntry{Name: m.e.Name, Node: m.e.Node, Address: m.e.Address, Created: m.e.Created}
	case withdrawReq:
		delete(s.own, m.name)
	default:
		return nil, actor.ErrUnhandled
	}
	s.report()
	upd := &clusterpb.Entries{From: s.self, Entries: s.ownEntries()}
	for _, ps := range s.peers {
		s.send(ps.info.Address, upd)
	}
	return nil, nil
}

func (s *seedServer) HandleInfo(p *actor.Process, msg any) {
	switch m := msg.(type) {
	case tick:
		s.greetSeeds()
		p.SendAfter(s.cfg.Interval, tick{})
	case *clusterpb.Hello:
		s.hello(m)
	case *clusterpb.Entries:
		if ps := s.peer(m.GetFrom()); ps != nil {
			ps.entries = s.valid(ps, m.GetEntries())
			s.report()
		}
	case *clusterpb.Bye:
		if ps := s.peer(m.GetFrom()); ps != nil {
			s.drop(ps)
		}
	case actor.Down:
		for _, ps := range s.peers {
			if ps.ref == m.Ref {
				s.drop(ps)
				return
			}
		}
	}
}

// Terminate says Bye, so peers see NodeDown before the connection closes.
func (s *seedServer) Terminate(p *actor.Process, _ error) {
	for _, ps := range s.peers {
		s.send(ps.info.Address, &clusterpb.Bye{From: s.self})
	}
}

// hello records a peer (anew if it restarted), greets the members it knows
// that this node does not, and answers.
func (s *seedServer) hello(m *clusterpb.Hello) {
	from := m.GetFrom()
	if from.GetName() == s.self.Name {
		return
	}
	if !validName(from.GetName()) || from.GetAddress() == "" {
		s.sink.Reject("greeting", fmt.Errorf("%w: node %q at %q", ErrInvalidName, from.GetName(), from.GetAddress()))
		return
	}
	ps := s.peers[from.Name]
	if ps == nil || ps.info.Address != from.Address || ps.info.Started != from.Started {
		if ps != nil {
			s.p.Demonitor(ps.ref)
		}
		ps = &peerState{info: from, ref: s.p.Monitor(actor.NamedPID(from.Address, RegisteredName))}
		s.peers[from.Name] = ps
		if m.GetReply() { // it greeted this node with older entries, or none
			s.send(from.Address, &clusterpb.Entries{From: s.self, Entries: s.ownEntries()})
		}
	}
	ps.entries = s.valid(ps, m.GetEntries())
	s.report()
	for _, k := range m.GetKnown() {
		if k.GetName() == s.self.Name || k.GetAddress() == "" {
			continue
		}
		if known := s.peers[k.GetName()]; known == nil || known.info.Started < k.GetStarted() {
			s.send(k.Address, s.greeting(false))
		}
	}
	if !m.GetReply() {
		s.send(from.Address, s.greeting(true))
	}
}

// peer returns the state of the peer from, if from is the incarnation known.
func (s *seedServer) peer(from *clusterpb.NodeInfo) *peerState {
	ps := s.peers[from.GetName()]
	if ps == nil || ps.info.Address != from.GetAddress() || ps.info.Started != from.GetStarted() {
		return nil
	}
	return ps
}

// valid keeps the entries a peer may publish: its own, with valid names.
func (s *seedServer) valid(ps *peerState, es []*clusterpb.DirEntry) []*clusterpb.DirEntry {
	out := make([]*clusterpb.DirEntry, 0, len(es))
	for _, e := range es {
		if e.GetNode() != ps.info.Name || e.GetAddress() != ps.info.Address || !validName(e.GetName()) {
			s.sink.Reject("directory entry from "+ps.info.Name, fmt.Errorf("%w: %q on %q at %q", ErrInvalidName, e.GetName(), e.GetNode(), e.GetAddress()))
			continue
		}
		out = append(out, e)
	}
	return out
}

func (s *seedServer) drop(ps *peerState) {
	s.p.Demonitor(ps.ref)
	delete(s.peers, ps.info.Name)
	s.report()
}

// greetSeeds greets the seeds that are not up.
func (s *seedServer) greetSeeds() {
	up := map[string]bool{s.self.Address: true}
	for _, ps := range s.peers {
		up[ps.info.Address] = true
	}
	for _, seed := range s.cfg.Seeds {
		if !up[seed] {
			s.send(seed, s.greeting(false))
		}
	}
}

func (s *seedServer) greeting(reply bool) *clusterpb.Hello {
	h := &clusterpb.Hello{From: s.self, Entries: s.ownEntries(), Reply: reply}
	for _, name := range slices.Sorted(maps.Keys(s.peers)) {
		h.Known = append(h.Known, s.peers[name].info)
	}
	return h
}

// send is best effort: a peer that cannot be reached is seen through its
// monitor, a seed through the next greeting.
func (s *seedServer) send(addr string, msg any) {
	_ = s.p.Send(actor.NamedPID(addr, RegisteredName), msg)
}

func (s *seedServer) ownEntries() []*clusterpb.DirEntry {
	out := make([]*clusterpb.DirEntry, 0, len(s.own))
	for _, name := range slices.Sorted(maps.Keys(s.own)) {
		out = append(out, s.own[name])
	}
	return out
}

// report gives the sink the members and entries as they are now.
func (s *seedServer) report() {
	ms := []Member{fromInfo(s.self)}
	var es []Entry
	for _, ps := range s.peers {
		ms = append(ms, fromInfo(ps.info))
		for _, e := range ps.entries {
			es = append(es, Entry{Name: e.Name, Node: e.Node, Address: e.Address, Created: e.Created})
		}
	}
	s.sink.SetMembers(ms)
	s.sink.SetEntries(es)
}

func toInfo(m Member) *clusterpb.NodeInfo {
	return &clusterpb.NodeInfo{Name: m.Name, Address: m.Address, Meta: maps.Clone(m.Meta), Started: m.Incarnation}
}

func fromInfo(i *clusterpb.NodeInfo) Member {
	return Member{Name: i.GetName(), Address: i.GetAddress(), Meta: maps.Clone(i.GetMeta()), Incarnation: i.GetStarted()}
}
