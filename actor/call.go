package actor

import (
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/switchboard-go/switchboard/internal/wire"
)

// replyTo says where the reply to a call goes: a request id in the pending
// table of the node at addr.
type replyTo struct {
	addr string
	ref  uint64
}

// ReplyTo is a call that a server chose to answer later; see
// Process.DeferReply.
type ReplyTo struct {
	to replyTo
	// watched is the node whose going down the caller's Pending watches
	// already (the node it sent to): Forward to it logs nothing.
	watched string
}

// Caller is what can make synchronous calls: a *Node (from any goroutine) or
// a *Process (from its own callbacks).
type Caller interface {
	Call(ctx context.Context, pid *PID, msg any) (any, error)
}

// Call sends msg to pid's HandleCall and waits for the reply, until ctx's
// deadline or, without one, the node's CallTimeout. A call to a process that
// does not exist fails at once with ErrNoProcess, one whose node goes away
// with ErrNodeDown, one whose node's queue is full (Limits.MaxPeerQueueBytes)
// at once with ErrOverloaded, and one that runs out of time with ErrTimeout.
// Messages for a remote process must be protobuf messages.
func (n *Node) Call(ctx context.Context, pid *PID, msg any) (any, error) {
	return n.call(ctx, n.self, pid, msg)
}

// Call calls pid from p; see Node.Call. It blocks p until the reply.
func (p *Process) Call(ctx context.Context, pid *PID, msg any) (any, error) {
	if pid.Equal(p.pid) {
		return nil, ErrCallSelf
	}
	return p.node.call(ctx, p.pid, pid, msg)
}

func (n *Node) call(ctx context.Context, from, to *PID, msg any) (any, error) {
	if to == nil {
		return nil, ErrNoProcess
	}
	if n.stopping.Load() {
		return nil, ErrNodeStopped
	}
	pend := n.NewPending(ctx, to.Address, false)
	if err := n.sendCall(from, to, msg, pend.ReplyTo().to); err != nil {
		pend.Release()
		return nil, err
	}
	v, err := pend.Wait(ctx)
	pend.Release() // after a reply it has nothing to do
	return v, err
}

// sendCall puts a call on its way to `to`, its reply going to rt. A local
// process that does not exist is ErrNoProcess, returned at once; the
// other errors are those of encoding and sending to another node.
func (n *Node) sendCall(from, to *PID, msg any, rt replyTo) error {
	if n.isLocal(to) {
		if t := n.local(to); t == nil || !t.enqueue(newCallMsg(rt, msg)) {
			return ErrNoProcess
		}
		return nil
	}
	o := getOut()
	defer o.put()
	payload, err := o.pack(msg)
	if err != nil {
		return err
	}
	o.c.Ref, o.c.Payload = rt.ref, payload
	if rt.addr != n.addr {
		o.c.ReplyAddress = rt.addr
	}
	o.call.Call = &o.c
	o.sender(from)
	o.f.To, o.f.Body = to.Id, &o.call
	return n.sendFrame(to.Address, &o.f)
}

func hasDeadline(ctx context.Context) bool {
	_, ok := ctx.Deadline()
	return ok
}

// Forward delivers msg to pid's HandleCall as a call whose reply goes to rt
// instead of to the sender: rt is a Pending's (or ExpectReply's) ReplyTo, or
// one a server got from DeferReply and passes on. The forwarding side drops
// out of the reply path, as an exchange does between a client and a
// controller. If pid does not exist, rt gets ErrNoProcess (naming pid's id)
// at once; for a remote pid, msg must be a protobuf message, and a node
// whose queue is full makes Forward return ErrOverloaded (rt gets nothing).
//
// If pid's node goes down before pid answers, this node answers rt with a
// *NodeDownError naming it, as soon as it learns of it: rt's caller may not
// even know that node. This holds for the most recent 8,192 calls
// forwarded to each node; see forwardLog.
func (n *Node) Forward(pid *PID, msg any, rt ReplyTo) error {
	if pid == nil || rt.IsZero() {
		return ErrNoProcess
	}
	if n.stopping.Load() {
		return ErrNodeStopped
	}
	// Not logged: a local pid, a caller on pid's node (it goes down with
	// it), a caller that watches pid's node itself (a client sending to
	// its exchange's node).
	if pid.Address != n.addr && pid.Address != rt.to.addr && pid.Address != rt.watched {
		n.forwards.add(pid.Address, rt.to) // before sending: a death right after the send finds it
	}
	if pid.Address == n.addr && rt.watched == n.addr { // a caller's own send within the node: see HandleDirect
		t := n.local(pid)
		if t == nil {
			n.reply(rt.to, nil, noProcess(pid.Id))
			return nil
		}
		if d := t.direct.Load(); d != nil && (*d)(msg, ReplyTo{to: rt.to}) {
			return nil
		}
		if !t.enqueue(newCallMsg(rt.to, msg)) {
			n.reply(rt.to, nil, noProcess(pid.Id))
		}
		return nil
	}
	err := n.sendCall(n.self, pid, msg, rt.to)
	if err == ErrNoProcess { // rt may be anyone's: it gets the answer, not the forwarder
		n.reply(rt.to, nil, noProcess(pid.Id))
		return nil
	}
	return err
}

// CallTimeout is the bound of calls whose context has no deadline.
func (n *Node) CallTimeout() time.Duration { return n.cfg.CallTimeout }

// Cast sends msg to pid's HandleCast without waiting. Delivery is not
// confirmed: a cast to a dead process is dropped, as in Erlang. A cast to a
// node whose queue is full (it does not read: paused, overloaded) is not
// sent, and Cast returns ErrOverloaded (see Limits.MaxPeerQueueBytes).
func (n *Node) Cast(pid *PID, msg any) error { return n.post(n.self, pid, msg, true) }

// Cast casts msg to pid from p; see Node.Cast.
func (p *Process) Cast(pid *PID, msg any) error { return p.node.post(p.pid, pid, msg, true) }

// Send delivers msg to pid's HandleInfo without waiting (Erlang's !). A
// message to a dead process is dropped; one to a node whose queue is full
// is not sent, and Send returns ErrOverloaded, as Cast does.
func (n *Node) Send(pid *PID, msg any) error { return n.post(n.self, pid, msg, false) }

// Send sends msg to pid from p; see Node.Send.
func (p *Process) Send(pid *PID, msg any) error { return p.node.post(p.pid, pid, msg, false) }

func (n *Node) post(from, to *PID, msg any, cast bool) error {
	if to == nil {
		return ErrNoProcess
	}
	if n.stopping.Load() {
		return ErrNodeStopped
	}
	if n.isLocal(to) {
		if t := n.local(to); t != nil {
			return t.admit(from, msg, cast)
		}
		return nil
	}
	payload, err := pack(msg)
	if err != nil {
		return err
	}
	f := &wire.Frame{From: toWire(from), To: to.Id}
	if cast {
		f.Body = &wire.Frame_Cast{Cast: &wire.Payload{Payload: payload}}
	} else {
		f.Body = &wire.Frame_Info{Info: &wire.Payload{Payload: payload}}
	}
	return n.sendFrame(to.Address, f)
}

// DeferReply tells the runtime that the call being handled will be answered
// later with Reply (Erlang's {noreply, State} and gen_server:reply/2): the
// value HandleCall returns is then ignored. It may only be called from
// HandleCall.
func (p *Process) DeferReply() ReplyTo {
	if p.cur == nil {
		return ReplyTo{}
	}
	p.deferred = true
	return ReplyTo{to: p.cur.from}
}

// Reply answers a deferred call. It may be called from any goroutine.
func (n *Node) Reply(to ReplyTo, val any, err error) {
	if to.to.ref != 0 {
		n.reply(to.to, val, err)
	}
}

// TryReply is Reply that says whether the reply went: ErrOverloaded if
// the queue for the caller's node is full (nothing was sent, not even the
// error Reply would send in its place, and it is not counted as dropped:
// the caller may try again, as a stream's producer does), or the error
// Reply would have swallowed (the caller's node is down, this one
// stopping). A reply within the node always goes.
func (n *Node) TryReply(to ReplyTo, val any, err error) error {
	if to.to.ref == 0 {
		return nil
	}
	return n.sendReply(to.to, val, err, true)
}

func (n *Node) reply(to replyTo, val any, err error) { _ = n.sendReply(to, val, err, false) }

// sendReply sends a reply and says whether it went; with try, one that
// does not fit the queue for its node is left to the caller (TryReply).
func (n *Node) sendReply(to replyTo, val any, err error, try bool) error {
	if to.addr == n.addr {
		n.pending.complete(to.ref, val, err)
		return nil
	}
	o := getOut()
	defer o.put()
	r := &o.r
	r.Ref = to.ref
	if err != nil {
		r.Error = encodeError(err)
	} else if val != nil {
		payload, perr := o.pack(val)
		if perr != nil {
			r.Error = encodeError(perr)
		} else {
			r.Payload = payload
		}
	}
	o.reply.Reply = r
	o.f.Body = &o.reply
	serr := n.sendFrame(to.addr, &o.f)
	switch {
	case errors.Is(serr, ErrMessageTooLarge):
		// The caller must not wait for a reply that cannot travel.
		r.Payload, r.Error = nil, encodeError(serr)
		return n.sendFrame(to.addr, &o.f)
	case errors.Is(serr, ErrOverloaded) && !try:
		// Its node reads too slowly for the reply: the caller is told, with
		// an error of a few bytes that has room beyond the queue's bound
		// (see Limits.MaxPeerQueueBytes), instead of waiting for its
		// deadline. An error reply that did not fit is lost.
		n.stats.repliesDropped.Add(1)
		if r.Payload == nil {
			n.stats.repliesLost.Add(1)
			return serr
		}
		r.Payload, r.Error = nil, &wire.Error{Code: wire.Code_CODE_OVERLOADED, Text: ErrOverloaded.Error() + ": the reply did not fit the queue to its node"}
		if errors.Is(n.sendFrame(to.addr, &wire.Frame{Body: &wire.Frame_Reply{Reply: r}}), ErrOverloaded) {
			n.stats.repliesLost.Add(1)
		}
	}
	return serr
}

// keepPayloadBuf is the largest payload buffer that is kept for reuse
// (see outFrame).
const keepPayloadBuf = 4 << 20

func pack(msg any) (*anypb.Any, error) {
	m, ok := msg.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("%w: %T", ErrNotSerializable, msg)
	}
	return wire.PackAny(m)
}
