package transport

import (
	"errors"
	"fmt"
	"time"

	"github.com/switchboard-go/switchboard/internal/wire"
)

// Limits bound what peers can make a node hold: connections that have not
// proved the cookie, frames being read, and frames queued for a peer that
// does not read them. The zero value takes the defaults. Every refusal is
// counted in Stats.
//
// Inbound, an accepted connection gets a goroutine, a 512-byte reader and
// the handshake deadline (Config.DialTimeout) and nothing more until its
// peer has proved the cookie; then it gets its 64 KiB read buffer. At most
// MaxPendingConns connections are in their handshake at once. Once a
// frame's length prefix has arrived, the rest of it must arrive within
// FrameTimeout. Frames larger than the read buffer count toward
// MaxInflightBytes, node-wide, from their length prefix until the next
// frame of their connection is read (so while they are decoded and handled
// too); a reader that finds no room waits for it, in order of arrival, and
// that wait counts against the frame's FrameTimeout: a frame that gets
// neither room nor its bytes in time closes its connection. (Waiting
// rather than closing at once keeps honest peers that send a few large
// frames together working; the deadline keeps a reader from waiting
// forever.) While it waits, the reader tells the tick watchdog that its
// connection is not silent. Silence, between frames or within one, is the
// ticks' to bound (TickTime, tick.go): a peer that stops mid-frame is cut
// by them first; FrameTimeout cuts one that keeps trickling.
//
// Measured (TestConcurrentLargeFramesStayUnderInflightBound): eight 60 MiB
// frames at once grew a node's RSS by 1.1 to 1.3 GiB before these limits
// (720 to 900 MiB with GOMEMLIMIT=320MiB); under the default
// MaxInflightBytes (256 MiB) two are read at once and it grows by 480 to
// 600 MiB (340 to 362 MiB with GOMEMLIMIT=320MiB). The bound is on live
// memory: the Go collector lets the heap grow to twice that (GOGC=100)
// unless a memory limit above it holds the heap near the limit.
//
// Outbound, see MaxPeerQueueBytes.
type Limits struct {
	// MaxPendingConns bounds the accepted connections still in their
	// handshake. A connection accepted beyond it is closed at once, counted
	// in Stats.PendingRefused. Established connections are not affected, but
	// while strangers hold every slot a new honest peer is refused too, for
	// at most DialTimeout after the strangers stop. Default 256.
	MaxPendingConns int
	// FrameTimeout bounds the reading of one frame once its length prefix
	// has arrived, including a wait for MaxInflightBytes: a peer that sends
	// a frame's start and then stalls, or trickles it, is cut then
	// (Stats.SlowFrames). At the default MaxFrameSize it asks 6.4 MiB/s of
	// the largest frames; raise it for large frames on slow links. Default
	// 10 s.
	FrameTimeout time.Duration
	// MaxInflightBytes bounds the memory that frames larger than 64 KiB
	// take while they are read and handled, node-wide. Each counts twice
	// its size: the frame (read into a buffer of its own, which the decoded
	// frame keeps rather than copies) and the message its handler decodes
	// from it (actor unpacks one copy). That is live memory: to keep the
	// heap near it, set a memory limit (GOMEMLIMIT) above it; without one
	// the Go collector lets the heap reach twice the live memory (GOGC).
	// Default 256 MiB, and never less than twice MaxFrameSize, so that
	// every frame fits.
	MaxInflightBytes int
	// MaxPeerQueueBytes bounds the bytes of frames queued for one peer and
	// not yet taken by its socket (a peer that does not read: paused,
	// overloaded, or on a slow link). A call, reply, cast or info frame that
	// does not fit is not queued at all, never half, and Send returns
	// ErrOverloaded; signals (links, monitors, exits, downs) are always
	// queued, since dropping one would break a link or a monitor, and they
	// are small. A reply that carries an error and no value may take
	// MaxPeerQueueBytes/16 more, so that a caller whose reply did not fit
	// can be told. A frame is taken into an empty queue even if it is
	// larger, so a queue holds at most max(MaxPeerQueueBytes, MaxFrameSize)
	// + MaxPeerQueueBytes/16 of data frames. Default 64 MiB.
	MaxPeerQueueBytes int
}

// Defaults of Limits.
const (
	DefaultMaxPendingConns   = 256
	DefaultFrameTimeout      = 10 * time.Second
	DefaultMaxInflightBytes  = 256 << 20
	DefaultMaxPeerQueueBytes = 64 << 20
)

// ErrOverloaded: Send did not queue a frame because the peer's queue holds
// Limits.MaxPeerQueueBytes; nothing of the frame was queued.
var ErrOverloaded = errors.New("transport: peer overloaded")

// ErrFrameTimeout: a frame did not arrive whole within Limits.FrameTimeout
// of its length prefix (counting a wait for Limits.MaxInflightBytes); its
// connection is closed.
var ErrFrameTimeout = errors.New("transport: frame not read within FrameTimeout")

// withDefaults fills in the zero fields; maxFrame is Config.MaxFrameSize.
func (l Limits) withDefaults(maxFrame int) Limits {
	if l.MaxPendingConns <= 0 {
		l.MaxPendingConns = DefaultMaxPendingConns
	}
	if l.FrameTimeout <= 0 {
		l.FrameTimeout = DefaultFrameTimeout
	}
	if l.MaxInflightBytes <= 0 {
		l.MaxInflightBytes = DefaultMaxInflightBytes
	}
	l.MaxInflightBytes = max(l.MaxInflightBytes, inflightCost(maxFrame))
	if l.MaxPeerQueueBytes <= 0 {
		l.MaxPeerQueueBytes = DefaultMaxPeerQueueBytes
	}
	return l
}

// readBufSize is the read buffer of an authenticated connection; frames
// larger than it count toward MaxInflightBytes.
const readBufSize = 64 << 10

// inflightCost is what a frame of size bytes counts toward
// MaxInflightBytes: the frame and the message its handler decodes from it.
func inflightCost(size int) int { return 2 * size }

// handshakeBufSize is the read buffer of a connection in its handshake,
// whose messages are at most maxHandshakeMsg and read through it.
const handshakeBufSize = 512

// room is the bound on the bytes queued for a peer that f may be queued
// under: MaxPeerQueueBytes for data (a call, a reply, a cast or an info),
// a sixteenth more for a reply that carries only an error (what a node
// sends when the reply itself did not fit), 0 (none) for signals and
// anything else.
func (t *Transport) room(f *wire.Frame) int64 {
	switch b := f.Body.(type) {
	case *wire.Frame_Reply:
		if b.Reply.GetPayload() == nil && b.Reply.GetError() != nil {
			return int64(t.cfg.MaxPeerQueueBytes) + int64(t.cfg.MaxPeerQueueBytes/16)
		}
		return int64(t.cfg.MaxPeerQueueBytes)
	case *wire.Frame_Call, *wire.Frame_Cast, *wire.Frame_Info:
		return int64(t.cfg.MaxPeerQueueBytes)
	}
	return 0
}

// overloaded is the error of a data frame that did not fit p's queue.
func (p *peer) overloaded(size int) error {
	p.t.overloaded.Add(1)
	return fmt.Errorf("%w: %s has %d bytes queued, a frame of %d does not fit (MaxPeerQueueBytes %d)",
		ErrOverloaded, p.addr, p.queued.Load(), size, p.t.cfg.MaxPeerQueueBytes)
}

// queuedBytes sums the bytes queued for every peer now.
func (t *Transport) queuedBytes() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	var n int64
	for _, p := range t.peers {
		n += max(p.queued.Load(), 0)
	}
	return n
}
