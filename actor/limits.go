package actor

import (
	"time"

	"github.com/switchboard-go/switchboard/internal/transport"
)

// Limits bound what other nodes can make this one hold; the zero value
// takes the defaults. Every refusal is counted in Node.Stats.
//
// Inbound: a connection gets a small reader and the handshake's deadline
// until its peer proves the cookie, and only then its 64 KiB read buffer;
// at most MaxPendingConns are in their handshake at once. A frame must
// arrive whole within FrameTimeout of its length prefix. Frames over
// 64 KiB count toward MaxInflightBytes, node-wide, while they are read
// and handled; a reader waits for room, in order of arrival, until its
// FrameTimeout, and then its connection is closed. Refused connections are
// logged at most 10 times per peer host every 10 s; the next line says how
// many were suppressed.
//
// Outbound: see MaxPeerQueueBytes.
type Limits struct {
	// MaxPendingConns bounds the accepted connections still in their
	// handshake (which Config's dial timeout, 2 s, bounds); one more is
	// closed at once (Stats.PendingRefused). Connections already
	// established are not affected; while strangers hold every slot, a new
	// honest peer is refused too. Default 256.
	MaxPendingConns int
	// FrameTimeout bounds the reading of one frame once its length prefix
	// has arrived, a wait for MaxInflightBytes included: a peer that sends
	// part of a frame and trickles the rest is cut then (Stats.SlowFrames);
	// one that stops sending is cut by the ticks first (TickTime). At
	// MaxFrameSize's default it asks 6.4 MiB/s for the largest frames.
	// Default 10 s.
	FrameTimeout time.Duration
	// MaxInflightBytes bounds the memory that frames over 64 KiB take
	// while they are read and handled, node-wide: each counts twice its
	// size (the frame, and the message unpacked from it). That is live
	// memory; the Go collector lets the heap grow to twice it unless a
	// memory limit (GOMEMLIMIT) above it holds the heap near the limit.
	// Default 256 MiB, never less than twice MaxFrameSize.
	MaxInflightBytes int
	// MaxPeerQueueBytes bounds the bytes queued for one other node and not
	// yet taken by its socket, as when it is paused or slow. A message
	// that does not fit is not queued at all, never in part: Send, Cast,
	// Call and Forward to that node return ErrOverloaded at once (so do the
	// APIs built on them), and a reply that does not fit is dropped
	// (Stats.RepliesDropped): its caller gets ErrOverloaded instead, in an
	// error reply that may take MaxPeerQueueBytes/16 more (if even that is
	// full, the caller times out or learns that the node is down). Links,
	// monitors, exit signals and downs are always queued. A message is
	// taken into an empty queue even if it is larger. Default 64 MiB.
	MaxPeerQueueBytes int
}

func (l Limits) transport() transport.Limits {
	return transport.Limits{
		MaxPendingConns:   l.MaxPendingConns,
		FrameTimeout:      l.FrameTimeout,
		MaxInflightBytes:  l.MaxInflightBytes,
		MaxPeerQueueBytes: l.MaxPeerQueueBytes,
	}
}
