package cluster

import (
	"context"
	"errors"
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
// each node runs a cluster process that greets its seeds; a seed tells the
// node of the members it knows and its members of the node (see
// seedServer), nodes that greet each other tell each other of their
// directory entries, and monitor each other's cluster process, so a node that stops, dies
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
//
// A join costs messages of one member each, not whole lists: a node greets
// its seeds with want_known and gets the seed's members in the answer; it
// greets each of them (no list), and each answers. The seed tells its
// peers of the nodes that greeted it (Introduce, one message per peer for
// all that came since the last), so nodes that join at the same time find
// each other. Changes are reported to the sink once per burst: a change
// queues a flush message behind what is in the mailbox, and the snapshot
// is made when the flush comes.
type seedServer struct {
	actor.BaseServer
	cfg   EmbeddedConfig
	self  *clusterpb.NodeInfo
	sink  Sink
	p     *actor.Process
	peers map[string]*peerState // by node name
	own   map[string]*clusterpb.DirEntry

	ticks   int                     // Intervals since Init
	pending map[string]*pendingPeer // by name: nodes to greet, or greeted, that have not answered yet
	intro   []*clusterpb.NodeInfo   // nodes that greeted this one as a seed, to introduce to the peers
	queued  bool                    // a flush is in the mailbox
	dirty   bool                    // members or entries changed since the last report
	last    time.Time               // of the last report
}

type peerState struct {
	info    *clusterpb.NodeInfo
	ref     actor.Ref
	entries []*clusterpb.DirEntry
}

// pendingPeer is a node to greet that has not answered: one listed by
// another, or a peer seen down without a Bye (its connection may have
// broken on a busy machine while it lives on). Of two nodes that learn of
// each other from a third, the one with the smaller name greets at once
// and the other only if no greeting came within greetBackup Intervals, so
// that one connection is dialed between them, not two crossing ones (each
// costs a handshake and a dialback). A greeting, or its answer, is lost
// when its connection cannot be made (a handshake that times out on a
// busy machine), so it is greeted again, after 2, 4, 8, 8, …
// Intervals, greetTries times in all, until it answers.
//
// At most maxGreetings greetings are in flight at once (sent within the
// last two Intervals and not answered): each may dial a connection, and
// a hundred handshakes begun at once on a busy machine time out, are
// retried, and time out again; answers free their slots for the next.
//
// A greeted node is monitored from the first greeting: a greeting whose
// connection fails (refused, or its handshake timed out on a busy
// machine) comes back as a Down at once, and the first quickRetries
// such failures greet the node again at the next Interval instead of two
// to eight later (one lost handshake cost a 100-node join 1-4 s); the
// later ones keep the schedule above, so a node that stays unreachable is
// still greeted for a minute or so. The monitor becomes the peer's when
// it answers.
type pendingPeer struct {
	info    *clusterpb.NodeInfo
	tries   int // greetings sent
	due     int // the tick of the next
	sent    int // the tick of the last
	ref     actor.Ref
	watched bool // ref monitors its cluster process
}

const (
	greetTries   = 12
	greetBackup  = 3
	maxGreetings = 8
	quickRetries = 3
)

// flush is the message a change queues behind the mailbox's contents.
type flush struct{}

func (s *seedServer) Init(p *actor.Process) error {
	s.p = p
	s.pending = map[string]*pendingPeer{}
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
	upd := &clusterpb.Entries{From: s.self, Entries: s.ownEntries()}
	for _, ps := range s.peers {
		s.send(ps.info.Address, upd)
	}
	return nil, nil
}

func (s *seedServer) HandleInfo(p *actor.Process, msg any) {
	switch m := msg.(type) {
	case tick:
		s.ticks++
		s.greetSeeds()
		s.greetPending()
		p.SendAfter(s.cfg.Interval, tick{})
	case flush:
		s.flush()
	case *clusterpb.Hello:
		s.hello(m)
	case *clusterpb.Introduce:
		if s.peer(m.GetFrom()) != nil { // only a member introduces
			s.greetUnknown(m.GetKnown())
		}
	case *clusterpb.Entries:
		if ps := s.peer(m.GetFrom()); ps != nil {
			ps.entries = s.valid(ps, m.GetEntries())
			s.changed()
		}
	case *clusterpb.Bye:
		if ps := s.peer(m.GetFrom()); ps != nil {
			s.drop(ps, false)
		}
	case actor.Down:
		for _, ps := range s.peers {
			if ps.ref == m.Ref {
				s.drop(ps, true)
				return
			}
		}
		for _, pp := range s.pending {
			if !pp.watched || pp.ref != m.Ref {
				continue
			}
			pp.watched = false // the next greeting monitors it again
			// Its greeting's connection failed: greet it at the next tick.
			if errors.Is(m.Reason, actor.ErrNodeDown) && pp.tries <= quickRetries {
				pp.sent = s.ticks - 2 // not in flight
				pp.due = min(pp.due, s.ticks+1)
				s.greetDue()
			}
			return
		}
	}
}

// Terminate says Bye, so peers see NodeDown before the connection closes.
func (s *seedServer) Terminate(p *actor.Process, _ error) {
	for _, ps := range s.peers {
		s.send(ps.info.Address, &clusterpb.Bye{From: s.self})
	}
}

// hello records a peer (anew if it restarted), greets the members it lists
// that this node does not know, and answers.
func (s *seedServer) hello(m *clusterpb.Hello) {
	from := m.GetFrom()
	if from.GetName() == s.self.Name {
		return
	}
	if !validName(from.GetName()) || from.GetAddress() == "" {
		s.sink.Reject("greeting", fmt.Errorf("%w: node %q at %q", ErrInvalidName, from.GetName(), from.GetAddress()))
		return
	}
	var watch *pendingPeer // its greeting's monitor, which the peer takes over
	if pp := s.pending[from.Name]; pp != nil {
		delete(s.pending, from.Name)
		if pp.watched && pp.info.GetAddress() == from.Address {
			watch = pp
		} else if pp.watched {
			s.p.Demonitor(pp.ref)
		}
		defer s.greetDue() // a slot is free
	}
	ps := s.peers[from.Name]
	if ps == nil || ps.info.Address != from.Address || ps.info.Started != from.Started {
		if ps != nil {
			s.p.Demonitor(ps.ref)
		}
		ps = &peerState{info: from}
		if watch != nil {
			ps.ref, watch.watched = watch.ref, false
		} else {
			ps.ref = s.p.Monitor(actor.NamedPID(from.Address, RegisteredName))
		}
		s.peers[from.Name] = ps
		if m.GetReply() { // it greeted this node with older entries, or none
			s.send(from.Address, &clusterpb.Entries{From: s.self, Entries: s.ownEntries()})
		}
		if m.GetWantKnown() { // this node is its seed: tell the others
			s.intro = append(s.intro, from)
			s.queueFlush()
		}
	}
	ps.entries = s.valid(ps, m.GetEntries())
	s.changed()
	s.greetUnknown(m.GetKnown())
	if !m.GetReply() {
		s.send(from.Address, s.greeting(true, m.GetWantKnown()))
	}
}

// greetUnknown greets the nodes of known that this node does not know (or
// knows an older incarnation of) and has not greeted yet, or leaves them
// to greet this one (see pendingPeer); greetPending greets them again
// while they do not answer.
func (s *seedServer) greetUnknown(known []*clusterpb.NodeInfo) {
	for _, k := range known {
		if k.GetName() == s.self.Name || k.GetAddress() == s.self.Address {
			continue
		}
		if !validName(k.GetName()) || k.GetAddress() == "" {
			s.sink.Reject("listed member", fmt.Errorf("%w: node %q at %q", ErrInvalidName, k.GetName(), k.GetAddress()))
			continue
		}
		if ps := s.peers[k.GetName()]; ps != nil && ps.info.Started >= k.GetStarted() {
			continue
		}
		if pp := s.pending[k.GetName()]; pp != nil && pp.info.GetStarted() >= k.GetStarted() {
			continue
		} else if pp != nil {
			s.forget(k.GetName(), pp)
		}
		pp := &pendingPeer{info: k, due: s.ticks + greetBackup}
		if s.self.Name < k.GetName() {
			pp.due = s.ticks
		}
		s.pending[k.GetName()] = pp
	}
	s.greetDue()
}

// greetDue greets the pending nodes whose greeting is due, as long as
// fewer than maxGreetings are in flight.
func (s *seedServer) greetDue() {
	flying := 0
	for _, pp := range s.pending {
		if pp.tries > 0 && s.ticks-pp.sent < 2 {
			flying++
		}
	}
	var h *clusterpb.Hello
	for _, pp := range s.pending {
		if flying >= maxGreetings {
			return
		}
		if pp.due > s.ticks || pp.tries >= greetTries {
			continue
		}
		if h == nil {
			h = s.greeting(false, false)
		}
		pp.tries++
		pp.sent, pp.due = s.ticks, s.ticks+min(1<<pp.tries, 8)
		flying++
		s.send(pp.info.Address, h)
		if !pp.watched {
			pp.ref, pp.watched = s.p.Monitor(actor.NamedPID(pp.info.Address, RegisteredName)), true
		}
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

// drop forgets a peer; one seen down without a Bye (lost) is greeted again
// for a while (greetPending).
func (s *seedServer) drop(ps *peerState, lost bool) {
	s.p.Demonitor(ps.ref)
	delete(s.peers, ps.info.Name)
	if lost {
		pp := &pendingPeer{info: ps.info, due: s.ticks + 1}
		if s.self.Name > ps.info.Name {
			pp.due += greetBackup
		}
		s.pending[ps.info.Name] = pp
	}
	s.changed()
}

// greetSeeds greets the seeds that are not up, with the members this node
// knows, asking for theirs.
func (s *seedServer) greetSeeds() {
	up := map[string]bool{s.self.Address: true}
	for _, ps := range s.peers {
		up[ps.info.Address] = true
	}
	var h *clusterpb.Hello
	for _, seed := range s.cfg.Seeds {
		if !up[seed] {
			if h == nil {
				h = s.greeting(false, true)
				h.WantKnown = true
			}
			s.send(seed, h)
		}
	}
}

// greetPending forgets the pending nodes that greetTries greetings did
// not reach, and greets those due.
func (s *seedServer) greetPending() {
	for name, pp := range s.pending {
		if pp.tries >= greetTries && s.ticks >= pp.due {
			s.forget(name, pp)
		}
	}
	s.greetDue()
}

// forget stops greeting the pending node name.
func (s *seedServer) forget(name string, pp *pendingPeer) {
	if pp.watched {
		s.p.Demonitor(pp.ref)
	}
	delete(s.pending, name)
}

// greeting is this node's Hello, with the members it knows if withKnown.
func (s *seedServer) greeting(reply, withKnown bool) *clusterpb.Hello {
	h := &clusterpb.Hello{From: s.self, Entries: s.ownEntries(), Reply: reply}
	if withKnown {
		for _, name := range slices.Sorted(maps.Keys(s.peers)) {
			h.Known = append(h.Known, s.peers[name].info)
		}
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

// changed marks the members or entries changed, to be reported at the
// next flush.
func (s *seedServer) changed() {
	s.dirty = true
	s.queueFlush()
}

func (s *seedServer) queueFlush() {
	if !s.queued {
		s.queued = true
		_ = s.p.Send(s.p.Self(), flush{})
	}
}

// flush reports the changes since the last flush and introduces the nodes
// that greeted this one as a seed to its peers.
func (s *seedServer) flush() {
	s.queued = false
	if s.dirty {
		s.dirty = false
		s.report()
	}
	if len(s.intro) > 0 {
		in := &clusterpb.Introduce{From: s.self, Known: s.intro}
		s.intro = nil
		for _, ps := range s.peers {
			s.send(ps.info.Address, in)
		}
	}
}

// report gives the sink the members and entries as they are now.
func (s *seedServer) report() {
	ms := make([]Member, 0, len(s.peers)+1)
	ms = append(ms, fromInfo(s.self))
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
