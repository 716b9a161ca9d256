package patterns

import (
	"context"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
)

// Response is an asynchronous reply, delivered to the HandleInfo of the
// process that sent the request with Request.
type Response struct {
	Exchange string
	Tag      string // the request tag given with WithTag
	Value    any
	Err      error
}

// Request sends msg to the exchange from node n and returns at once (an
// error only if it could not be sent); the reply arrives later in the
// HandleInfo of the local process replyTo as a *Response carrying the
// exchange, the request tag and the value or error (actor.ErrTimeout if
// none came by ctx's deadline, or the node's CallTimeout). It is the seed's
// messaging:request/4. For a Broadcast exchange the first reply is the one.
//
// A request with an idempotency key runs once within the exchange's
// window, as with Call, but Request sends it once: WithRetry and
// SafeToRepeat are ErrInvalidOption here.
func Request(ctx context.Context, n *actor.Node, ex exchange.Address, tag string, msg any, replyTo *actor.PID, opts ...RequestOption) error {
	o := parseOptions(opts)
	if err := o.single("Request", true); err != nil {
		return err
	}
	o.tag = tag
	target, err := check(ctx, n, ex, msg, 0, nil)
	if err != nil {
		return err
	}
	c := Client{n: n}
	rt, err := n.ExpectReply(ctx, target.Address, replyTo, func(v any, err error) any {
		return &Response{Exchange: ex.Name, Tag: tag, Value: v, Err: c.clarify(ex, err)}
	})
	if err != nil {
		return err
	}
	req := new(exchange.Request)
	build(req, ctx, n, ex, msg, rt, false, o)
	if err = req.ForwardTo(n, target); err != nil {
		n.Cancel(rt) // the caller has the error; no Response follows it
	}
	return err
}
