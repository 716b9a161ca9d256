package patterns

import (
	"context"
	"errors"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/supervisor"
)

// Errors of interactions (responses with request). Test them with
// errors.Is; they keep their identity across nodes.
var (
	// ErrAnswerFailed: the client's answer function returned an error (it
	// is wrapped, in the client's node) or panicked. Interact returns it,
	// and so does the controller's ask.
	ErrAnswerFailed = errors.New("patterns: the client could not answer")
	// ErrInteractionOver: ask was called after the interaction broke (an
	// earlier ask failed) or after the handler returned.
	ErrInteractionOver = errors.New("patterns: interaction over")
	// ErrInteractionCrashed: the interaction handler panicked; the error
	// wraps the *actor.PanicError in the controller's node.
	ErrInteractionCrashed = errors.New("patterns: interaction handler panicked")
)

// Ask asks the client of an interaction a question and returns its answer
// (see InteractHandler).
type Ask func(ctx context.Context, question any) (answer any, err error)

// InteractHandler answers one request, asking its client questions with
// ask before its final reply (an interactive exchange, a response with
// request): a confirmation, a missing field. Each question goes straight
// to the client, whose answer function (see Client.Interact) answers it;
// ask returns the answer, or the error that broke the interaction:
// ErrAnswerFailed, actor.ErrTimeout (ctx's or the request's deadline),
// actor.ErrNodeDown (the client's node went away). After an error, later
// asks fail with ErrInteractionOver and the final reply goes nowhere. ask
// is for the handler's own goroutine, one question at a time.
//
// ctx carries the request's deadline, and ends early when the controller
// exits. Across nodes, questions must be protobuf messages (ask returns
// actor.ErrNotSerializable and the interaction goes on). A panic answers
// the client with ErrInteractionCrashed; the controller goes on.
type InteractHandler func(ctx context.Context, req *exchange.Request, ask Ask) (any, error)

// InteractController is a controller whose handler may ask its client
// questions before the final reply. Each request runs on a goroutine of
// its own, so that many interactions are in flight at once, each with its
// own questions and answers; they end with the controller.
type InteractController struct {
	actor.BaseServer
	Membership exchange.Membership
	Handler    InteractHandler
	OnEvent    func(p *actor.Process, event any)
	MaxPayload int // bounds requests and answers from other nodes, in bytes; default exchange.DefaultMaxPayload

	life lifetime
}

// NewInteractController is a controller of the exchange ex that answers
// with h.
func NewInteractController(ex exchange.Address, h InteractHandler) *InteractController {
	return &InteractController{Membership: exchange.Membership{Exchange: ex}, Handler: h}
}

// InteractControllerSpec is the supervisor child spec of an interaction
// controller; newController builds a fresh one for every (re)start.
func InteractControllerSpec(id string, newController func() *InteractController) supervisor.ChildSpec {
	return supervisor.Worker(id, func() actor.Server { return newController() })
}

// Init joins the exchange.
func (c *InteractController) Init(p *actor.Process) error {
	c.life.start(p)
	c.Membership.Join(p)
	return nil
}

// HandleCall starts an interaction for each request; its replies go to
// the client from the interaction's goroutine.
func (c *InteractController) HandleCall(p *actor.Process, msg any) (any, error) {
	req, ok, err := exchange.AsRequest(msg, c.MaxPayload)
	if !ok {
		return nil, actor.ErrUnhandled
	}
	if err != nil {
		return nil, err
	}
	s := &interaction{n: p.Node(), cur: p.DeferReply(), max: c.MaxPayload}
	go s.run(c.life.context(), c.Handler, req)
	return nil, nil
}

// HandleInfo keeps the membership and passes events on.
func (c *InteractController) HandleInfo(p *actor.Process, msg any) {
	if ev := c.Membership.Handle(p, msg); ev != nil && c.OnEvent != nil {
		c.OnEvent(p, ev)
	}
}

// Terminate ends the controller's interactions and leaves the exchange.
func (c *InteractController) Terminate(p *actor.Process, reason error) {
	c.life.end(p, reason)
	c.Membership.Leave(p)
}
