package actor

import (
	"context"
	"fmt"
	"time"
)

// Pending is the client side of a request that processes other than the one
// it was sent to may answer: its ReplyTo travels with the message, and
// whoever holds it answers with Node.Reply, from any node, once or several
// times. Call is the same machinery: no process or future per request, one
// slot in the node's table of pending ids.
//
// A Pending belongs to one goroutine; Release it when done.
type Pending struct {
	n *Node
	w *waiter
}

// NewPending registers a request. peer is the address of the node the
// request goes to: if that node goes away, Wait returns ErrNodeDown; if
// that node forwards the request on (Forward), it answers ErrNodeDown for
// the node it forwarded to. With
// many, replies queue and Wait returns them one by one; without it, the
// first reply is the only one. ctx's deadline, or else the node's
// CallTimeout, bounds a Pending that takes one reply.
func (n *Node) NewPending(ctx context.Context, peer string, many bool) Pending {
	var deadline int64
	if !many && !hasDeadline(ctx) {
		deadline = n.clock() + int64(n.cfg.CallTimeout)
	}
	var w *waiter
	if many {
		w = n.pending.addMulti(peer)
	} else {
		var watch *ctxWatch
		if done := ctx.Done(); done != nil {
			watch = n.pending.watches.get(ctx, done)
		}
		w = n.pending.add(peer, deadline, watch)
	}
	return Pending{n: n, w: w}
}

// released stands for the waiter of a Pending that has been released: it
// has no reply and never gets one.
var released = &waiter{multi: true}

// ReplyTo is what the answering side needs to reply.
func (p *Pending) ReplyTo() ReplyTo {
	return ReplyTo{to: replyTo{addr: p.n.addr, ref: p.w.ref}, watched: p.w.addr}
}

// Wait returns the next reply (its value, or the error it carries), or
// ErrTimeout/ctx's error when ctx ends first.
func (p *Pending) Wait(ctx context.Context) (any, error) {
	w := p.w
	// The sweeper enforces the deadline, or the context's watch fails the
	// call when it ends: no select.
	if !w.multi && (ctx.Done() == nil || w.watch != nil && ctx.Done() == w.watch.done) {
		r := <-w.ch
		p.n.pending.release(w, true)
		p.w = released
		return r.val, r.err
	}
	if !w.multi {
		select {
		case r := <-w.ch:
			p.n.pending.release(w, true)
			p.w = released
			return r.val, r.err
		case <-ctx.Done():
			return nil, ctxError(ctx)
		}
	}
	for {
		if r, ok := w.pop(); ok {
			return r.val, r.err
		}
		select {
		case <-w.ch:
		case <-ctx.Done():
			return nil, ctxError(ctx)
		}
	}
}

// Release removes the request from the table; replies arriving later are
// dropped.
func (p *Pending) Release() {
	if p.w == released {
		return
	}
	p.n.pending.release(p.w, false)
	p.w = released
}

func ctxError(ctx context.Context) error {
	if ctx.Err() == context.DeadlineExceeded {
		return fmt.Errorf("%w: %w", ErrTimeout, ctx.Err())
	}
	return ctx.Err()
}

// NewReplyTo rebuilds a ReplyTo from its parts, as carried in a message
// between nodes.
func NewReplyTo(address string, ref uint64) ReplyTo {
	return ReplyTo{to: replyTo{addr: address, ref: ref}}
}

// Address is the node the reply goes to.
func (r ReplyTo) Address() string { return r.to.addr }

// Ref is the request id in that node's table.
func (r ReplyTo) Ref() uint64 { return r.to.ref }

// IsZero reports whether r is no reply address at all.
func (r ReplyTo) IsZero() bool { return r.to.ref == 0 }

// SendAfter sends msg to p itself after d (erlang:send_after). The
// returned function cancels it and reports whether it did so in time.
func (p *Process) SendAfter(d time.Duration, msg any) (cancel func() bool) {
	n, self := p.node, p.pid
	t := time.AfterFunc(d, func() { _ = n.post(self, self, msg, false) })
	return t.Stop
}

// ExpectReply registers a request whose one reply is delivered to the
// mailbox of the local process to, as the message wrap(value, err), instead
// of being waited for: the asynchronous form of Pending. If no reply comes
// before ctx's deadline (or the node's CallTimeout), or peer's node goes
// away, wrap(nil, err) is delivered with ErrTimeout or ErrNodeDown. to must
// be a live process of this node (ErrNoProcess otherwise).
func (n *Node) ExpectReply(ctx context.Context, peer string, to *PID, wrap func(val any, err error) any) (ReplyTo, error) {
	p := n.local(to)
	if p == nil {
		return ReplyTo{}, fmt.Errorf("%w: reply target %s is not a live local process", ErrNoProcess, FormatPID(to))
	}
	deadline := n.clock() + int64(n.cfg.CallTimeout)
	if d, ok := ctx.Deadline(); ok {
		deadline = n.clock() + int64(time.Until(d))
	}
	w := n.pending.addForward(peer, deadline, p, wrap)
	return ReplyTo{to: replyTo{addr: n.addr, ref: w.ref}, watched: peer}, nil
}

// ExpectReply is Node.ExpectReply with p's own mailbox as the target.
func (p *Process) ExpectReply(ctx context.Context, peer string, wrap func(val any, err error) any) ReplyTo {
	rt, _ := p.node.ExpectReply(ctx, peer, p.pid, wrap) // p is alive: it is running this
	return rt
}

// Cancel forgets the request rt of this node: a reply arriving later is
// dropped, and an ExpectReply target gets no timeout message for it.
func (n *Node) Cancel(rt ReplyTo) {
	if rt.to.addr == n.addr {
		n.pending.drop(rt.to.ref)
	}
}
