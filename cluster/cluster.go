package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-go/switchboard/actor"
)

// Config configures a node's membership.
type Config struct {
	// Provider is where membership comes from; default: the embedded
	// provider with no seeds (a cluster of this node, until another names
	// it as a seed).
	Provider Provider
	// Meta is metadata registered with the node, seen by the others.
	Meta map[string]string
	// Logger receives membership changes; default: discard.
	Logger *slog.Logger
}

type nodeKey struct{}

// Cluster is one node's view of the cluster: its members, their events and
// the directory of names. Create it with Join; find it from the node with
// From. Safe for concurrent use.
type Cluster struct {
	n    *actor.Node
	self Member
	prov Provider
	log  *slog.Logger

	mu      sync.Mutex
	members map[string]Member // by name, self included
	entries []Entry           // the provider's last snapshot
	own     map[string]Entry  // the names this node published
	view    atomic.Pointer[map[string][]Entry]

	rejected atomic.Uint64
	events   eventQueue
	leaveOne sync.Once
	leaveErr error
	quit     chan struct{}
	wg       sync.WaitGroup
}

// Join makes node n a member of the cluster given by cfg and attaches the
// result to n (From returns it). Leave it before stopping the node; a node
// that stops without leaving is seen by the others as dead.
func Join(ctx context.Context, n *actor.Node, cfg Config) (*Cluster, error) {
	if n.Value(nodeKey{}) != nil {
		return nil, ErrJoined
	}
	if !validName(n.Name()) {
		return nil, fmt.Errorf("%w: node name %q", ErrInvalidName, n.Name())
	}
	if cfg.Provider == nil {
		cfg.Provider = Embedded(EmbeddedConfig{})
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Cluster{
		n:       n,
		self:    Member{Name: n.Name(), Address: n.Address(), Meta: maps.Clone(cfg.Meta), Incarnation: time.Now().UnixNano()},
		prov:    cfg.Provider,
		log:     cfg.Logger.With("node", n.Name()),
		members: map[string]Member{},
		own:     map[string]Entry{},
		quit:    make(chan struct{}),
	}
	empty := map[string][]Entry{}
	c.view.Store(&empty)
	c.events.init()
	c.wg.Add(1)
	go c.deliver()
	if err := c.prov.Join(ctx, n, c.self, (*sink)(c)); err != nil {
		close(c.quit)
		c.events.close()
		c.wg.Wait()
		return nil, err
	}
	n.SetValue(nodeKey{}, c)
	c.wg.Add(1)
	go c.leaveWithNode()
	return c, nil
}

// From returns the cluster node n joined, or nil.
func From(n *actor.Node) *Cluster {
	c, _ := n.Value(nodeKey{}).(*Cluster)
	return c
}

// Self returns this node as a member.
func (c *Cluster) Self() Member { return c.self }

// Members returns the live members, this node included, sorted by name.
func (c *Cluster) Members() []Member {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Member, 0, len(c.members))
	for _, name := range slices.Sorted(maps.Keys(c.members)) {
		out = append(out, c.members[name])
	}
	return out
}

// Member returns the live member named name.
func (c *Cluster) Member(name string) (Member, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, ok := c.members[name]
	return m, ok
}

// Leave removes the node from the cluster: the others see NodeDown at once
// and its directory entries go. It returns when the cluster's goroutines
// have ended; later calls return the first call's result.
func (c *Cluster) Leave(ctx context.Context) error {
	c.leave(ctx)
	c.wg.Wait()
	return c.leaveErr
}

func (c *Cluster) leave(ctx context.Context) {
	c.leaveOne.Do(func() {
		c.leaveErr = c.prov.Leave(ctx)
		c.n.SetValue(nodeKey{}, nil)
		close(c.quit)
		c.events.close()
	})
}

// leaveWithNode leaves when the node stops without having left.
func (c *Cluster) leaveWithNode() {
	defer c.wg.Done()
	select {
	case <-c.quit:
	case <-c.n.Done():
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c.leave(ctx)
	}
}

// sink is the Cluster as its provider's Sink.
type sink Cluster

func (s *sink) SetMembers(ms []Member) {
	c := (*Cluster)(s)
	cur := make(map[string]Member, len(ms))
	for _, m := range ms {
		cur[m.Name] = m
	}
	addrs := make(map[string]bool, len(ms))
	for _, m := range ms {
		addrs[m.Address] = true
	}
	c.mu.Lock()
	evs := diff(c.members, cur)
	c.members = cur
	c.rebuild()
	c.mu.Unlock()
	for _, ev := range evs {
		if ev.Member.Name == c.self.Name {
			continue
		}
		c.log.Info("membership", "event", ev.Kind.String(), "member", ev.Member.Name, "address", ev.Member.Address)
		if _, embedded := c.prov.(*embedded); ev.Kind == NodeDown && !addrs[ev.Member.Address] && !embedded {
			// Declared dead while its connection may still look alive (cut
			// off from Consul, stalled): monitors fire, calls fail now. The
			// embedded provider declares a node dead when its connection
			// broke or it said Bye: a Disconnect then would only cut the
			// connection that is being made again (a greeting's), and with
			// it every monitor on it.
			c.n.Disconnect(ev.Member.Address)
		}
		c.events.push(ev)
	}
}

func (s *sink) Reject(what string, err error) {
	c := (*Cluster)(s)
	c.rejected.Add(1)
	c.log.Warn("membership input ignored", "what", what, "err", err)
}

// Stats are counters of a node's view of the cluster.
type Stats struct {
	Members  int    // live members, this node included
	Names    int    // live directory entries
	Rejected uint64 // malformed greetings and entries the provider ignored
}

// Stats returns the counters.
func (c *Cluster) Stats() Stats {
	c.mu.Lock()
	members := len(c.members)
	c.mu.Unlock()
	names := 0
	for _, es := range *c.view.Load() {
		names += len(es)
	}
	return Stats{Members: members, Names: names, Rejected: c.rejected.Load()}
}

func (s *sink) SetEntries(es []Entry) {
	c := (*Cluster)(s)
	c.mu.Lock()
	c.entries = slices.Clone(es)
	c.rebuild()
	c.mu.Unlock()
}

// Resolve returns the transport address of the live member named node: the
// Resolve of a RouterSpec.
func (c *Cluster) Resolve(node string) (address string, ok bool) {
	m, ok := c.Member(node)
	return m.Address, ok
}

// FollowMembers keeps ring's nodes equal to the live members for as long
// as the cluster lasts or until the returned cancel: members that come up
// are added, members that go down removed, so routing moves only the keys
// of the node that came or went.
func (c *Cluster) FollowMembers(ring *Ring) (cancel func()) {
	stop := c.OnEvent(func(ev Event) {
		switch ev.Kind {
		case NodeUp:
			_ = ring.Add(ev.Member.Name) // member names are valid ring nodes
		case NodeDown:
			if _, ok := c.Member(ev.Member.Name); !ok {
				ring.Remove(ev.Member.Name)
			}
		}
	})
	for _, m := range c.Members() {
		_ = ring.Add(m.Name)
	}
	return stop
}
