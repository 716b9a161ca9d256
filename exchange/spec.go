package exchange

import (
	"context"
	"errors"
	"fmt"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/cluster"
)

// Strategy decides which controllers get a request.
type Strategy int

const (
	// Broadcast sends every request to every controller (of the requested
	// service group); a client that asks for all replies gets every reply.
	Broadcast Strategy = iota
	// RoundRobin sends each request to the next controller in turn.
	RoundRobin
	// LeaderOnly appoints a leader and sends every request to it only
	// (the seed's "consensus"; named so to leave Leader to the event).
	LeaderOnly
	// LeaderRoundRobin appoints a leader, named in every controller's
	// Leader event, and spreads requests round-robin over all controllers
	// (the seed's "consensus & round-robin": the leader coordinates, every
	// member serves).
	LeaderRoundRobin
	// Sticky binds a hash of the request's signature (its routing key, or
	// else its payload) to one controller: the same signature keeps going
	// there while it lives, and is bound anew when it dies.
	Sticky
	// StickyFunc is Sticky with the hash from Spec.Hash.
	StickyFunc
	// Func lets Spec.Route decide for each request: which controllers,
	// a redirect to another exchange, or a rejection; it may rewrite the
	// request too.
	Func
)

// AppointsLeader reports whether the strategy appoints a leader: only
// LeaderOnly and LeaderRoundRobin do (the seed's two "consensus"
// strategies). Under the others no controller leads and Leader events
// name none.
func (s Strategy) AppointsLeader() bool { return s == LeaderOnly || s == LeaderRoundRobin }

var strategyNames = [...]string{"broadcast", "round_robin", "leader", "leader_round_robin", "sticky", "sticky_func", "func"}

// String names the strategy.
func (s Strategy) String() string {
	if s >= 0 && int(s) < len(strategyNames) {
		return strategyNames[s]
	}
	return fmt.Sprintf("Strategy(%d)", int(s))
}

// Member is a controller connection as the exchange sees it.
type Member struct {
	PID        *actor.PID
	ServiceTag string
	ConnTag    string
}

// Decision is what a Func strategy's Route returns: exactly one of
// Targets (controllers among the members it was shown), Redirect (the name
// of another exchange on the same node) or Reject (an error for the client,
// wrapped in ErrRejected). The client of any other decision gets
// ErrBadDecision.
type Decision struct {
	Targets  []Member
	Redirect string
	Reject   error
}

// Middleware wraps routing: it may look at or log the request, change it,
// and call next to go on, or return an error without calling next to
// reject it (the client gets the error wrapped in ErrRejected). Middleware
// runs on the exchange's goroutine, in the order of Spec.Middleware.
type Middleware func(req *Request, next func(*Request) error) error

// Spec describes an exchange.
type Spec struct {
	// Name identifies the exchange on its node; required.
	Name string
	// Strategy is Broadcast unless set.
	Strategy Strategy
	// Hash gives the sticky signature for StickyFunc.
	Hash func(req *Request) uint64
	// Route decides for Func; members are those of the requested service
	// group.
	Route func(req *Request, members []Member) Decision
	// Middleware runs around routing, first to last.
	Middleware []Middleware
	// MaxPayload bounds a request's payload from another node; default 4 MiB.
	MaxPayload int
	// MaxHops bounds redirects; default 8.
	MaxHops int
	// Idempotency bounds the memory of keyed requests' outcomes.
	Idempotency Idempotency
}

// Validate reports what is wrong with the spec, wrapping ErrInvalidSpec.
func (s Spec) Validate() error {
	switch {
	case s.Name == "":
		return fmt.Errorf("%w: no name", ErrInvalidSpec)
	case s.Strategy < Broadcast || s.Strategy > Func:
		return fmt.Errorf("%w: bad strategy %d", ErrInvalidSpec, s.Strategy)
	case s.Strategy == StickyFunc && s.Hash == nil:
		return fmt.Errorf("%w: sticky_func needs Hash", ErrInvalidSpec)
	case s.Strategy == Func && s.Route == nil:
		return fmt.Errorf("%w: func needs Route", ErrInvalidSpec)
	case s.MaxPayload < 0 || s.MaxHops < 0:
		return fmt.Errorf("%w: negative limit", ErrInvalidSpec)
	}
	return s.Idempotency.validate()
}

func (s *Spec) defaults() {
	if s.MaxPayload == 0 {
		s.MaxPayload = DefaultMaxPayload
	}
	if s.MaxHops == 0 {
		s.MaxHops = 8
	}
	s.Idempotency.defaults()
}

// DefaultMaxPayload is the default bound of a request's payload.
const DefaultMaxPayload = 4 << 20

// Address names an exchange: its name, and the transport address of the
// node it runs on. With Node empty the exchange is found by name alone:
// on the local node if it runs there, else through the directory of the
// cluster the node joined (package cluster), which knows where every
// exchange of the cluster runs.
type Address struct {
	Name string
	Node string
}

// Named addresses the exchange name by name alone: on the caller's own node
// if it runs there, else wherever the cluster's directory says.
func Named(name string) Address { return Address{Name: name} }

// At addresses the exchange name on the node at address.
func At(node, name string) Address { return Address{Name: name, Node: node} }

// RegisteredName is the name an exchange process is registered under.
func RegisteredName(exchange string) string { return "exchange:" + exchange }

// Resolve returns the PID that reaches the exchange at a from node n: the
// NamedPID of its registered name on the node that runs it, valid across
// restarts of the exchange there. An address with no Node is looked up:
// the local node first, then the cluster directory (without a cluster, the
// local node). ErrExchangeNotFound if no live node runs it; the directory's
// own error (cluster.ErrUnavailable) if it could not be asked.
func (a Address) Resolve(ctx context.Context, n *actor.Node) (*actor.PID, error) {
	if a.Node != "" {
		return actor.NamedPID(a.Node, RegisteredName(a.Name)), nil
	}
	reg := RegisteredName(a.Name)
	c := cluster.From(n)
	if c == nil || n.Whereis(reg) != nil {
		return actor.NamedPID(n.Address(), reg), nil
	}
	e, err := c.Lookup(ctx, reg)
	if errors.Is(err, cluster.ErrNotFound) {
		return nil, fmt.Errorf("%w: %q", ErrExchangeNotFound, a.Name)
	}
	if err != nil {
		return nil, err
	}
	return actor.NamedPID(e.Address, reg), nil
}

// PID returns the PID of the exchange at a from node n without asking the
// directory: an address with no Node is the local node's exchange.
func (a Address) PID(n *actor.Node) *actor.PID {
	node := a.Node
	if node == "" {
		node = n.Address()
	}
	return actor.NamedPID(node, RegisteredName(a.Name))
}
