package patterns

import (
	"context"
	"errors"
	"fmt"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/supervisor"
)

// Handler answers one request: its return value goes straight to the
// client. ctx carries the request's deadline. A panic crashes the
// controller (its supervisor restarts it) and the client gets the crash as
// an error at once.
type Handler func(ctx context.Context, req *exchange.Request) (any, error)

// Controller is a ready controller process (the seed's response_once): it
// joins an exchange, stays joined across the exchange's restarts, and
// answers each request with its Handler. OnEvent, if set, sees the
// membership events (*exchange.Leader, *exchange.MemberUp, MemberDown,
// ExchangeDown) and any other message sent to it.
type Controller struct {
	actor.BaseServer
	Membership exchange.Membership
	Handler    Handler
	OnEvent    func(p *actor.Process, event any)
	MaxPayload int
}

// NewController is a controller of the exchange ex that answers with h.
func NewController(ex exchange.Address, h Handler) *Controller {
	return &Controller{Membership: exchange.Membership{Exchange: ex}, Handler: h}
}

// ControllerSpec is the supervisor child spec of a controller; newController
// builds a fresh one for every (re)start.
func ControllerSpec(id string, newController func() *Controller) supervisor.ChildSpec {
	return supervisor.Worker(id, func() actor.Server { return newController() })
}

// Init joins the exchange.
func (c *Controller) Init(p *actor.Process) error {
	c.Membership.Join(p)
	return nil
}

// HandleCall answers requests. A keyed run from an exchange on another
// node whose start bound has passed is answered with exchange.ErrStale,
// without running the handler (exchange.CheckStart).
func (c *Controller) HandleCall(p *actor.Process, msg any) (any, error) {
	req, ok, err := exchange.AsRequest(msg, c.MaxPayload)
	if !ok {
		return nil, actor.ErrUnhandled
	}
	if err != nil {
		return nil, err
	}
	ctx := context.Context(context.Background())
	a := req.Attempt()
	if a != 0 {
		if err := exchange.CheckStart(p.Node(), req); err != nil {
			return nil, err
		}
		if req.Deadline.IsZero() {
			ctx = attemptCtx{ctx, a}
		}
	}
	if !req.Deadline.IsZero() {
		d := &deadlineCtx{Context: ctx, deadline: req.Deadline, attempt: a}
		defer d.stop()
		ctx = d
	}
	v, err := c.Handler(ctx, req)
	if errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, actor.ErrTimeout) {
		err = fmt.Errorf("%w: %w", actor.ErrTimeout, err) // one error to test for, on any node
	}
	return v, err
}

// HandleInfo keeps the membership and passes events on.
func (c *Controller) HandleInfo(p *actor.Process, msg any) {
	if ev := c.Membership.Handle(p, msg); ev != nil && c.OnEvent != nil {
		c.OnEvent(p, ev)
	}
}

// Terminate leaves the exchange.
func (c *Controller) Terminate(p *actor.Process, _ error) { c.Membership.Leave(p) }
