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

// Request sends msg to the exchange from process p and returns at once; the
// reply arrives later in p's HandleInfo as a *Response carrying the
// exchange, the request tag and the value or error (actor.ErrTimeout if
// none came by ctx's deadline, or the node's CallTimeout). It is the seed's
// messaging:request/4. For a Broadcast exchange the first reply is the one.
func Request(ctx context.Context, p *actor.Process, ex exchange.Address, tag string, msg any, opts ...RequestOption) error {
	n := p.Node()
	target, err := check(n, ex, msg, 0)
	if err != nil {
		return err
	}
	c := Client{n: n}
	rt := p.ExpectReply(ctx, target.Address, func(v any, err error) any {
		return &Response{Exchange: ex.Name, Tag: tag, Value: v, Err: c.clarify(ex, err)}
	})
	req := build(ctx, n, ex, msg, rt, false, append(opts, WithTag(tag)))
	m, err := req.For(n, target)
	if err == nil {
		err = n.Forward(target, m, rt)
	}
	return err
}
