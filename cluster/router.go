package cluster

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/internal/clusterpb"
	"github.com/switchboard-go/switchboard/supervisor"
)

// DefaultMaxHops bounds how many times one request may be forwarded from
// router to router, unless RouterSpec.MaxHops says otherwise.
const DefaultMaxHops = 8

// DefaultMaxConcurrent bounds how many Handle calls of one router run at
// once, unless RouterSpec.MaxConcurrent says otherwise.
const DefaultMaxConcurrent = 1024

// RouterSpec describes the router of one routing name on one node. Every
// node that takes part runs a router of the same Name, each with its own
// Table; the tables should agree, and when they do not (a node that has
// not yet heard of a change) the request is forwarded until a node's table
// names that node itself, at most MaxHops times.
type RouterSpec struct {
	// Name names the routing: the router is registered as RouterName(Name)
	// on every node. Required.
	Name string
	// Table says which node owns a key. Required. The router calls Owner
	// from its own goroutine, one request at a time.
	Table Table
	// Self is this node's name as the Table writes it; default: the node's
	// Name. An owner that Resolve maps to this node's address is this node
	// too.
	Self string
	// Resolve gives the transport address of a node the Table names. It is
	// called from the router's goroutine. Nil: the cluster the node joined
	// resolves its live members (see
	// Cluster.Resolve); without one, a key owned elsewhere fails with
	// ErrUnresolvedNode.
	Resolve func(node string) (address string, ok bool)
	// Handle serves a request on the node that owns its key, and its result
	// goes straight back to the caller, wherever that is. Required. It runs
	// on a goroutine of its own, owned by the router, so a slow Handle does
	// not hold up the requests the router forwards; ctx ends at the
	// caller's deadline or when the router stops, which waits for every
	// Handle to return (a result after the deadline is dropped: the caller
	// has had ErrTimeout). msg is what the caller passed to Route: the same
	// value on the caller's node, a copy decoded from protobuf on another.
	// The reply must be a protobuf message (or nil) when the caller is on
	// another node. A panic in Handle is answered to its caller as an
	// *actor.PanicError and logged; the router keeps running.
	Handle func(ctx context.Context, key string, msg any) (any, error)
	// MaxHops bounds the forwards of one request; more is ErrRoutingLoop.
	// Default DefaultMaxHops.
	MaxHops int
	// MaxConcurrent bounds the Handle calls that run at once; when they all
	// are busy the router waits for one to end before it takes its next
	// message (backpressure). Default DefaultMaxConcurrent.
	MaxConcurrent int
}

// Validate reports what is wrong with the spec, wrapping
// ErrInvalidRouterSpec.
func (s RouterSpec) Validate() error {
	switch {
	case s.Name == "":
		return fmt.Errorf("%w: no Name", ErrInvalidRouterSpec)
	case s.Table == nil:
		return fmt.Errorf("%w: router %q has no Table", ErrInvalidRouterSpec, s.Name)
	case s.Handle == nil:
		return fmt.Errorf("%w: router %q has no Handle", ErrInvalidRouterSpec, s.Name)
	case s.MaxHops < 0:
		return fmt.Errorf("%w: router %q: negative MaxHops %d", ErrInvalidRouterSpec, s.Name, s.MaxHops)
	case s.MaxConcurrent < 0:
		return fmt.Errorf("%w: router %q: negative MaxConcurrent %d", ErrInvalidRouterSpec, s.Name, s.MaxConcurrent)
	}
	return nil
}

// RouterName is the name a router of the routing name is registered under
// on each node: "router:" + name.
func RouterName(name string) string { return "router:" + name }

// StartRouter starts the router of spec on n, registered under
// RouterName(spec.Name), not linked to anything; in an application use
// RouterChildSpec instead, so that a supervisor restarts it.
func StartRouter(ctx context.Context, n *actor.Node, spec RouterSpec) (*actor.PID, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	return n.Spawn(ctx, newRouterServer(spec), actor.WithName(RouterName(spec.Name)))
}

// RouterChildSpec is the supervisor child spec of the router of spec, with
// ID RouterName(spec.Name).
func RouterChildSpec(spec RouterSpec) supervisor.ChildSpec {
	return supervisor.ChildSpec{
		ID: RouterName(spec.Name),
		Start: func(ctx context.Context, sup *actor.Process, _ any) (*actor.PID, error) {
			if err := spec.Validate(); err != nil {
				return nil, err
			}
			return sup.SpawnLink(ctx, newRouterServer(spec), actor.WithName(RouterName(spec.Name)))
		},
	}
}

// Route runs msg on the node that owns key, as KV.Router.route of the Mix
// guide does, and returns its reply. It may be called from any goroutine.
//
// The router of name on n looks key up in its table. If n owns the key, the
// router's Handle serves it here. Otherwise the router forwards the request
// to the owner's router, which consults its own table and serves it or
// forwards it again, at most MaxHops times (then ErrRoutingLoop); the reply
// comes straight from the node that served it to this call, through no
// router on the way back. msg must be a protobuf message if it has to leave
// n.
//
// The call ends at ctx's deadline, or the node's CallTimeout without one,
// with actor.ErrTimeout. A node on the path (the owner, or a router that
// forwarded the request) going away answers it with actor.ErrNodeDown as
// soon as the router that forwarded to it learns of it (see
// actor.Node.Forward). Errors: ErrEmptyKey, ErrNoRoute
// (from whichever table had no entry), ErrUnresolvedNode, ErrRoutingLoop,
// actor.ErrNoProcess (no router of name on n, or on the owner node),
// actor.ErrNotSerializable, and whatever Handle returned; errors.Is works
// for them across nodes when they were made as "%w: details".
func Route(ctx context.Context, n *actor.Node, name, key string, msg any) (any, error) {
	if key == "" {
		return nil, ErrEmptyKey
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(n.CallTimeout())
	}
	return n.Call(ctx, actor.NamedPID(n.Address(), RouterName(name)), &routeCall{key: key, msg: msg, deadline: deadline})
}

// routeCall is a routed request inside one node: unencoded, so a local
// caller's msg need not be protobuf. Between nodes it is a RouteRequest.
type routeCall struct {
	key      string
	hops     int
	msg      any
	deadline time.Time
}

// routerServer is the router process of one node.
type routerServer struct {
	actor.BaseServer
	spec RouterSpec
	n    *actor.Node
	self string // spec.Self or the node's name

	ctx    context.Context // ends when the router stops: every Handle's parent
	cancel context.CancelFunc
	slots  chan struct{} // one per running Handle
	wg     sync.WaitGroup
}

func newRouterServer(spec RouterSpec) *routerServer {
	if spec.MaxHops == 0 {
		spec.MaxHops = DefaultMaxHops
	}
	if spec.MaxConcurrent == 0 {
		spec.MaxConcurrent = DefaultMaxConcurrent
	}
	return &routerServer{spec: spec}
}

func (s *routerServer) Init(p *actor.Process) error {
	s.n = p.Node()
	s.self = s.spec.Self
	if s.self == "" {
		s.self = s.n.Name()
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.slots = make(chan struct{}, s.spec.MaxConcurrent)
	return nil
}

// HandleCall routes one request: served here or forwarded, and answered by
// whoever serves it. An error returned here goes to the caller.
func (s *routerServer) HandleCall(p *actor.Process, msg any) (any, error) {
	var req routeCall
	switch m := msg.(type) {
	case *routeCall:
		req = *m
	case *clusterpb.RouteRequest:
		r, err := decodeRouteRequest(m)
		if err != nil {
			return nil, err
		}
		req = r
	default:
		return nil, actor.ErrUnhandled
	}
	if req.key == "" {
		return nil, ErrEmptyKey
	}
	if !req.deadline.IsZero() && time.Now().After(req.deadline) {
		p.DeferReply() // nobody waits for the reply any more
		return nil, nil
	}
	owner, err := s.spec.Table.Owner(req.key)
	if err != nil {
		return nil, err
	}
	if owner == s.self {
		s.serve(p.DeferReply(), req)
		return nil, nil
	}
	if req.hops >= s.spec.MaxHops {
		return nil, fmt.Errorf("%w: key %q forwarded %d times, and %s's table says %q owns it (MaxHops %d)",
			ErrRoutingLoop, req.key, req.hops, s.self, owner, s.spec.MaxHops)
	}
	addr, ok := s.resolve(owner)
	if !ok {
		return nil, fmt.Errorf("%w: %q, owner of key %q in %s's table", ErrUnresolvedNode, owner, req.key, s.self)
	}
	if addr == s.n.Address() {
		s.serve(p.DeferReply(), req)
		return nil, nil
	}
	req.hops++
	out, err := encodeRouteRequest(req)
	if err != nil {
		return nil, err
	}
	rt := p.DeferReply()
	if err := s.n.Forward(actor.NamedPID(addr, RouterName(s.spec.Name)), out, rt); err != nil {
		s.n.Reply(rt, nil, err)
	}
	return nil, nil
}

func (s *routerServer) resolve(node string) (string, bool) {
	if s.spec.Resolve != nil {
		return s.spec.Resolve(node)
	}
	if c := From(s.n); c != nil {
		return c.Resolve(node)
	}
	return "", false
}

// serve runs Handle on a goroutine of the router's and sends its result to
// rt. It waits for a free slot first, which is the router's backpressure.
func (s *routerServer) serve(rt actor.ReplyTo, req routeCall) {
	s.slots <- struct{}{}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer func() { <-s.slots }()
		deadline := req.deadline
		if deadline.IsZero() {
			deadline = time.Now().Add(s.n.CallTimeout())
		}
		ctx, cancel := context.WithDeadline(s.ctx, deadline)
		val, err := s.handle(ctx, req)
		late := ctx.Err() == context.DeadlineExceeded
		cancel()
		if !late { // after the deadline the caller has its own ErrTimeout
			s.n.Reply(rt, val, err)
		}
	}()
}

// handle calls Handle, turning a panic into the caller's error.
func (s *routerServer) handle(ctx context.Context, req routeCall) (val any, err error) {
	defer func() {
		if r := recover(); r != nil {
			pe := &actor.PanicError{Value: r, Stack: debug.Stack()}
			s.n.Logger().Error("router: Handle panicked", "router", s.spec.Name, "key", req.key, "panic", r, "stack", string(pe.Stack))
			val, err = nil, pe
		}
	}()
	return s.spec.Handle(ctx, req.key, req.msg)
}

// Terminate ends every running Handle's context and waits for them to
// return. (A router killed with actor.ErrKill does not wait: its Handles end
// at their callers' deadlines.)
func (s *routerServer) Terminate(*actor.Process, error) {
	if s.cancel != nil {
		s.cancel()
	}
	s.wg.Wait()
}

func encodeRouteRequest(req routeCall) (*clusterpb.RouteRequest, error) {
	m, ok := req.msg.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("%w: %T, routed to another node", actor.ErrNotSerializable, req.msg)
	}
	payload, err := anypb.New(m)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", actor.ErrNotSerializable, err)
	}
	out := &clusterpb.RouteRequest{Key: req.key, Hops: uint32(req.hops), Payload: payload}
	if !req.deadline.IsZero() {
		out.DeadlineUnixNano = req.deadline.UnixNano()
	}
	return out, nil
}

func decodeRouteRequest(m *clusterpb.RouteRequest) (routeCall, error) {
	req := routeCall{key: m.GetKey(), hops: int(m.GetHops())}
	if d := m.GetDeadlineUnixNano(); d != 0 {
		req.deadline = time.Unix(0, d)
	}
	if m.GetPayload() == nil {
		return req, fmt.Errorf("%w: no payload", ErrBadRouteRequest)
	}
	msg, err := m.GetPayload().UnmarshalNew()
	if err != nil {
		return req, fmt.Errorf("%w: %w", ErrBadRouteRequest, err)
	}
	req.msg = msg
	return req, nil
}
