package patterns

import (
	"context"
	"fmt"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/internal/patternspb"
)

// Interact sends msg to the exchange and returns the final reply of the
// InteractController that handles it, answering its questions on the way:
// each question is passed to answer, on the calling goroutine, and what
// answer returns goes back to the controller. Each interaction has its own
// questions and answers, so that many can run at once from one client.
//
// If answer fails (or panics), the controller's ask gets ErrAnswerFailed
// and Interact returns answer's error wrapped in ErrAnswerFailed without
// waiting for a final reply. Otherwise the errors are Call's, and
// actor.ErrNodeDown as soon as the controller's node goes away. ctx's
// deadline, or the node's CallTimeout, bounds the whole interaction,
// answers included. Across nodes, answers must be protobuf messages. A
// controller that asks nothing makes Interact a Call. An interaction
// takes no idempotency key (exchange.ErrKeyUnsupported): its questions
// are answers of the controller too.
func (c *Client) Interact(ctx context.Context, ex exchange.Address, msg any, answer func(ctx context.Context, question any) (any, error), opts ...RequestOption) (any, error) {
	o := parseOptions(opts)
	if err := o.single("Interact", false); err != nil {
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.n.CallTimeout())
		defer cancel()
	}
	pend, _, err := c.send(ctx, ex, msg, false, o)
	if err != nil {
		return nil, err
	}
	v, err := pend.Wait(ctx)
	pend.Release()
	if err != nil {
		return nil, c.clarify(ex, err)
	}
	for {
		q, rt, ok, err := readQuestion(v)
		if !ok {
			return v, nil // the final reply
		}
		if err != nil {
			c.n.Reply(rt, nil, fmt.Errorf("%w: %w", ErrAnswerFailed, err))
			return nil, err
		}
		if v, err = c.answer(ctx, answer, q, rt); err != nil {
			return nil, err
		}
	}
}

// answer answers one question and waits for the controller's next
// message, at a new request whose peer is the controller's node.
func (c *Client) answer(ctx context.Context, answer func(context.Context, any) (any, error), q any, rt actor.ReplyTo) (any, error) {
	a, err := callAnswer(ctx, c.n, answer, q, rt)
	if err != nil {
		err = fmt.Errorf("%w: %w", ErrAnswerFailed, err)
		c.n.Reply(rt, nil, err)
		return nil, err
	}
	next := c.n.NewPending(ctx, rt.Address(), false)
	defer next.Release()
	var msg any = &answerMsg{payload: a, next: next.ReplyTo()}
	if rt.Address() != c.n.Address() {
		payload, err := packPayload(a)
		if err != nil {
			c.n.Reply(rt, nil, fmt.Errorf("%w: %w", ErrAnswerFailed, err))
			return nil, err
		}
		msg = &patternspb.InteractAnswer{Payload: payload, Address: c.n.Address(), Ref: next.ReplyTo().Ref()}
	}
	c.n.Reply(rt, msg, nil)
	return next.Wait(ctx)
}

// callAnswer runs the user's answer function; if it panics, the
// controller is told before the panic goes on up the client's stack.
func callAnswer(ctx context.Context, n *actor.Node, answer func(context.Context, any) (any, error), q any, rt actor.ReplyTo) (a any, err error) {
	ok := false
	defer func() {
		if !ok {
			n.Reply(rt, nil, fmt.Errorf("%w: the answer function panicked", ErrAnswerFailed))
		}
	}()
	a, err = answer(ctx, q)
	ok = true
	return a, err
}

// readQuestion tells a question, in either form, from a final reply. A
// question whose payload does not decode is returned with the error.
func readQuestion(v any) (q any, rt actor.ReplyTo, ok bool, err error) {
	switch m := v.(type) {
	case *questionMsg:
		return m.payload, m.rt, true, nil
	case *patternspb.InteractQuestion:
		rt = actor.NewReplyTo(m.GetAddress(), m.GetRef())
		q, err = unpackPayload(m.GetPayload())
		return q, rt, true, err
	}
	return nil, actor.ReplyTo{}, false, nil
}
