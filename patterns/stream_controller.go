package patterns

import (
	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/supervisor"
)

// StreamController is a controller whose answer to each request is a
// stream of chunks (a chunked response, the seed's "locomotive"). It
// joins an exchange as Controller does; for each request it starts a
// producer running Handler on a goroutine of its own and replies at once
// with the stream's opening message (an internal protocol message that
// names the producer), so that it keeps serving other requests while
// streams run. The chunks go straight to the client, never through the
// exchange, within the credit the client grants.
//
// Streams belong to the controller: when it exits, however it exits,
// their contexts end with an *actor.ExitError naming it, and their
// clients get that error. A panic in Handler ends its stream only
// (ErrStreamCrashed) and is logged.
type StreamController struct {
	actor.BaseServer
	Membership exchange.Membership
	Handler    StreamHandler
	OnEvent    func(p *actor.Process, event any)
	// MaxPayload bounds requests from other nodes and each chunk sent to
	// another node, in bytes; default exchange.DefaultMaxPayload.
	MaxPayload int

	life    lifetime
	onBlock func() // test hook: a send waits for credit
}

// NewStreamController is a controller of the exchange ex that answers with
// streams made by h.
func NewStreamController(ex exchange.Address, h StreamHandler) *StreamController {
	return &StreamController{Membership: exchange.Membership{Exchange: ex}, Handler: h}
}

// StreamControllerSpec is the supervisor child spec of a stream
// controller; newController builds a fresh one for every (re)start.
func StreamControllerSpec(id string, newController func() *StreamController) supervisor.ChildSpec {
	return supervisor.Worker(id, func() actor.Server { return newController() })
}

// Init joins the exchange.
func (c *StreamController) Init(p *actor.Process) error {
	c.life.start(p)
	c.Membership.Join(p)
	return nil
}

// HandleCall opens a stream for each request.
func (c *StreamController) HandleCall(p *actor.Process, msg any) (any, error) {
	req, ok, err := exchange.AsRequest(msg, c.MaxPayload)
	if !ok {
		return nil, actor.ErrUnhandled
	}
	if err != nil {
		return nil, err
	}
	return c.open(p, req), nil
}

// HandleInfo keeps the membership and passes events on.
func (c *StreamController) HandleInfo(p *actor.Process, msg any) {
	if ev := c.Membership.Handle(p, msg); ev != nil && c.OnEvent != nil {
		c.OnEvent(p, ev)
	}
}

// Terminate ends the controller's streams and leaves the exchange.
func (c *StreamController) Terminate(p *actor.Process, reason error) {
	c.life.end(p, reason)
	c.Membership.Leave(p)
}
