package actor

import (
	"errors"
	"fmt"
	"strings"

	"google.golang.org/protobuf/types/known/anypb"

	"github.com/switchboard-go/switchboard/internal/transport"
	"github.com/switchboard-go/switchboard/internal/wire"
)

// The node's pseudo-processes: the sender of node-level calls and signals,
// and the sender of the shutdown signals of Node.Stop.
const (
	nodeID = "$node"
	haltID = "$halt"
)

// receiveFrame handles a frame from the node at addr; it runs on the
// transport's reader goroutine and hands the frame to its target's mailbox,
// or answers for a target that is gone.
func (n *Node) receiveFrame(addr string, f *wire.Frame) {
	defer func() { // decoding is ours; a bug in it must not kill the node
		if v := recover(); v != nil {
			n.badFrame(fmt.Errorf("%w: panic: %v", ErrBadFrame, v))
		}
	}()
	if !n.speaksFor(addr, f) {
		return
	}
	if err := n.handleFrame(f); err != nil {
		n.badFrame(err)
	}
}

func (n *Node) badFrame(err error) {
	n.stats.badFrames.Add(1)
	n.log.Warn("dropped frame", "error", err)
}

func (n *Node) handleFrame(f *wire.Frame) error {
	sender := f.GetFrom()
	if !validPID(sender) && f.GetReply() == nil {
		return fmt.Errorf("%w: no sender", ErrBadFrame)
	}
	// The sender's PID is made only where it is kept (a call or a reply
	// needs only its address): one allocation less per call.
	switch b := f.Body.(type) {
	case *wire.Frame_Call:
		rt := replyTo{addr: sender.Address, ref: b.Call.GetRef()}
		if a := b.Call.GetReplyAddress(); a != "" {
			rt.addr = a
		}
		msg, err := unpack(b.Call.GetPayload())
		if err != nil {
			n.reply(rt, nil, err)
			return err
		}
		if f.To == spawnID {
			n.spawnFor(fromWire(sender), rt, msg)
			return nil
		}
		t := n.procByID(f.To)
		if t != nil {
			if d := t.direct.Load(); d != nil && !t.dead.Load() && (*d)(msg, ReplyTo{to: rt}) {
				return nil
			}
		}
		if t == nil || !t.enqueue(newCallMsg(rt, msg)) {
			n.reply(rt, nil, noProcess(f.To))
		}
	case *wire.Frame_Reply:
		r := b.Reply
		if r.GetError() != nil {
			n.pending.complete(r.GetRef(), nil, decodeError(r.GetError()))
			return nil
		}
		var val any
		if r.GetPayload() != nil {
			v, err := unpack(r.GetPayload())
			if err != nil {
				n.pending.complete(r.GetRef(), nil, err)
				return err
			}
			val = v
		}
		n.pending.complete(r.GetRef(), val, nil)
	case *wire.Frame_Cast, *wire.Frame_Info:
		var p *wire.Payload
		if c, ok := b.(*wire.Frame_Cast); ok {
			p = c.Cast
		} else {
			p = b.(*wire.Frame_Info).Info
		}
		msg, err := unpack(p.GetPayload())
		if err != nil {
			return err
		}
		if t := n.procByID(f.To); t != nil {
			_, cast := b.(*wire.Frame_Cast)
			_ = t.admit(nil, msg, cast) // a full mailbox drops it, counted
		}
	default:
		return n.handleSignal(fromWire(sender), f)
	}
	return nil
}

// handleSignal handles the frames of links, monitors and exits, from
// from (not nil).
func (n *Node) handleSignal(from *PID, f *wire.Frame) error {
	switch b := f.Body.(type) {
	case *wire.Frame_Link:
		if !n.addLink(f.To, from) {
			n.exitSignal(NewPID(n.addr, f.To), from, ErrNoProcess, true)
		}
	case *wire.Frame_Unlink:
		n.removeLink(f.To, from)
	case *wire.Frame_Exit:
		n.exitSignal(from, NewPID(n.addr, f.To), decodeError(b.Exit.GetReason()), b.Exit.GetLinked())
	case *wire.Frame_Monitor:
		ref := Ref(b.Monitor.GetRef())
		if !n.addMonitor(f.To, monKey{from.Address, ref}, from) {
			n.down(NewPID(n.addr, f.To), from, ref, ErrNoProcess)
		}
	case *wire.Frame_Demonitor:
		n.removeMonitor(f.To, monKey{from.Address, Ref(b.Demonitor.GetRef())})
	case *wire.Frame_Down:
		if t := n.procByID(f.To); t != nil {
			t.enqueue(&downSig{ref: Ref(b.Down.GetRef()), from: from, reason: decodeError(b.Down.GetReason())})
		}
	default:
		return fmt.Errorf("%w: empty body", ErrBadFrame)
	}
	return nil
}

// sendFrame sends f to the node at addr. Without a transport, or once it is
// closed, the peer is unreachable: it counts as down, so that calls, links
// and monitors of it end with ErrNodeDown. A frame the transport refuses
// (too large, or the peer's queue full: ErrOverloaded) is the sender's
// error only.
func (n *Node) sendFrame(addr string, f *wire.Frame) error {
	if n.tr == nil {
		n.nodeDown(addr)
		return fmt.Errorf("%w: %s: this node has no transport (Config.Listen)", ErrNodeDown, addr)
	}
	err := n.tr.Send(addr, f)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, transport.ErrClosed):
		n.nodeDown(addr)
		return ErrNodeStopped
	case errors.Is(err, transport.ErrFrameTooLarge):
		return fmt.Errorf("%w: %w", ErrMessageTooLarge, err)
	case errors.Is(err, transport.ErrOverloaded):
		return fmt.Errorf("%w: %w", ErrOverloaded, err)
	default:
		return fmt.Errorf("%w: %w", ErrNotSerializable, err)
	}
}

func toWire(pid *PID) *wire.Pid {
	if pid == nil {
		return nil
	}
	return &wire.Pid{Address: pid.Address, Id: pid.Id}
}

// validPID reports whether p names a process: fromWire(p) is not nil.
func validPID(p *wire.Pid) bool { return p != nil && p.Address != "" && p.Id != "" }

func fromWire(p *wire.Pid) *PID {
	if !validPID(p) {
		return nil
	}
	return NewPID(p.Address, p.Id)
}

func unpack(a *anypb.Any) (any, error) {
	if a == nil {
		return nil, fmt.Errorf("%w: no payload", ErrBadFrame)
	}
	m, err := wire.UnpackAny(a)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadFrame, err)
	}
	return m, nil
}

var codes = []struct {
	code wire.Code
	err  error
}{
	{wire.Code_CODE_SHUTDOWN, ErrShutdown},
	{wire.Code_CODE_KILLED, ErrKilled},
	{wire.Code_CODE_KILL, ErrKill},
	{wire.Code_CODE_NO_PROCESS, ErrNoProcess},
	{wire.Code_CODE_NODE_DOWN, ErrNodeDown},
	{wire.Code_CODE_TIMEOUT, ErrTimeout},
	{wire.Code_CODE_UNHANDLED, ErrUnhandled},
	{wire.Code_CODE_OVERLOADED, ErrOverloaded},
}

// encodeError turns an error or exit reason into its wire form; a sentinel of
// this package keeps its identity, anything else keeps its text.
func encodeError(err error) *wire.Error {
	if err == nil {
		return &wire.Error{Code: wire.Code_CODE_NORMAL}
	}
	for _, c := range codes {
		if err == c.err {
			return &wire.Error{Code: c.code}
		}
	}
	// protobuf strings are UTF-8: a text that is not would make the whole
	// frame unencodable, and the reply or signal would never leave.
	text := strings.ToValidUTF8(err.Error(), "\uFFFD")
	for _, c := range codes {
		if errors.Is(err, c.err) {
			return &wire.Error{Code: c.code, Text: text}
		}
	}
	return &wire.Error{Code: wire.Code_CODE_OTHER, Text: text}
}

func decodeError(e *wire.Error) error {
	if e == nil || e.Code == wire.Code_CODE_NORMAL {
		return nil
	}
	for _, c := range codes {
		if e.Code == c.code {
			if e.Text == "" || e.Text == c.err.Error() {
				return c.err
			}
			// The text of an error that wraps the sentinel first (most do)
			// starts with the sentinel's: it is not repeated.
			if rest, ok := strings.CutPrefix(e.Text, c.err.Error()+": "); ok {
				return fmt.Errorf("%w: %s", c.err, rest)
			}
			return fmt.Errorf("%w: %s", c.err, e.Text)
		}
	}
	return &RemoteError{Text: e.Text}
}

// noProcess is ErrNoProcess naming the process id (a NamedPID's id names
// the name), so that callers can tell which hop of a path was missing.
func noProcess(id string) error { return fmt.Errorf("%w: %s", ErrNoProcess, id) }
