package transport

import (
	"bufio"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/switchboard-go/switchboard/internal/wire"
)

// The handshake (see wire.proto): Hello, Challenge, Proof, Welcome. Both
// sides prove that they hold the cookie with an HMAC over fresh nonces, so
// the cookie never crosses the network and a recorded handshake cannot be
// replayed. With no cookie on either side the HMAC key is empty and every
// peer that speaks the protocol passes; a cookie on one side only fails.
// Before it welcomes a dialer, the listener has the dialer's address
// confirm the dial (verify.go): the cookie proves membership of the
// cluster, the dialback proves which member. Each side says its TickTime,
// and the connection's silence bound is the larger (tick.go).
//
// Clocks. The listener notes its clock (Config.Epoch's, monotonic) when it
// sends the Challenge, and the dialer says its own in the Proof, read
// after the Challenge came: whatever the delays and pauses between, the
// dialer's reading is of a later instant, so the difference bounds from
// below how far the listener's clock is ahead of the dialer's (PeerClock).
// No clock is set or synchronised; an exchange uses the bound to let a
// controller tell a request that waited too long to start (clock.go).

const (
	protocolVersion = 6
	nonceSize       = 32
	// maxHandshakeMsg bounds the messages read before the peer has proved
	// itself, so that a stranger cannot make a node allocate MaxFrameSize.
	maxHandshakeMsg = 4 << 10

	roleDialer   = "switchboard/6 dialer"
	roleListener = "switchboard/6 listener"

	// maxPeerTickTime caps the TickTime a peer says it has, so that the
	// silence bound of its connection stays a duration.
	maxPeerTickTime = 24 * time.Hour
)

// transcript is what both digests of a handshake cover besides the cookie
// and the role: everything either side said.
type transcript struct {
	dialerNonce, listenerNonce []byte
	dialerAddr, dialerNode     string
	listenerNode               string
	to                         string // the address the dialer dialed
	dialerInc, listenerInc     uint64
	dialerTick, listenerTick   uint64       // TickTimes, in microseconds
	dialerClock                int64        // the dialer's clock when it sent the Proof, in nanoseconds
	verify                     *wire.Verify // nil: a connection for frames
}

// peerSide is what a handshake tells of the node at the other end.
type peerSide struct {
	inc  uint64        // its incarnation
	tick time.Duration // its TickTime
	// Of a dialer, as its listener measured it: clockLo bounds this
	// node's clock minus the dialer's from below, and clockLo+clockSpread
	// from above (the Challenge's round trip).
	clockLo, clockSpread time.Duration
}

// digest is HMAC-SHA256(cookie, role || the transcript), each part
// length-prefixed so that no two transcripts concatenate alike.
func (tr *transcript) digest(cookie, role string) []byte {
	m := hmac.New(sha256.New, []byte(cookie))
	var incs [40]byte
	binary.BigEndian.PutUint64(incs[:8], tr.dialerInc)
	binary.BigEndian.PutUint64(incs[8:], tr.listenerInc)
	binary.BigEndian.PutUint64(incs[16:], tr.dialerTick)
	binary.BigEndian.PutUint64(incs[24:], tr.listenerTick)
	binary.BigEndian.PutUint64(incs[32:], uint64(tr.dialerClock))
	verify := []byte{0}
	switch {
	case tr.verify.GetKeep():
		verify = []byte{2}
	case tr.verify != nil:
		verify = []byte{1}
	}
	for _, part := range [][]byte{
		[]byte(role), tr.dialerNonce, tr.listenerNonce,
		[]byte(tr.dialerAddr), []byte(tr.dialerNode), []byte(tr.listenerNode),
		[]byte(tr.to), incs[:], verify,
		tr.verify.GetDialerNonce(), tr.verify.GetListenerNonce(),
	} {
		var size [4]byte
		binary.BigEndian.PutUint32(size[:], uint32(len(part)))
		m.Write(size[:])
		m.Write(part)
	}
	return m.Sum(nil)
}

// tickMicros is the TickTime this transport says in its handshakes: in
// microseconds, never 0.
func (t *Transport) tickMicros() uint64 { return uint64(max(t.cfg.TickTime.Microseconds(), 1)) }

// peerTick is the TickTime a peer said, in microseconds, as a duration
// under maxPeerTickTime.
func peerTick(us uint64) time.Duration {
	return time.Duration(min(us, uint64(maxPeerTickTime/time.Microsecond))) * time.Microsecond
}

func newNonce() []byte {
	b := make([]byte, nonceSize)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return b
}

// greet runs the dialer's side of the handshake on a new connection to
// the address to, and returns what the listener said of itself. With v
// set it is a dialback: it asks the listener whether it is dialing this
// node with v's nonces, and a nil error means yes.
func (t *Transport) greet(r *bufio.Reader, w *bufio.Writer, to string, v *wire.Verify) (peerSide, error) {
	tr := transcript{dialerNonce: newNonce(), dialerAddr: t.addr, dialerNode: t.cfg.Node, to: to, dialerInc: t.inc,
		dialerTick: t.tickMicros(), verify: v}
	if v == nil { // a dialback is no dial of ours: nobody may confirm it
		d := t.dials.start(tr.dialerNonce, to)
		defer t.dials.end(d)
	}
	if err := sendMsg(w, &wire.Hello{Version: protocolVersion, Address: t.addr, Node: t.cfg.Node, Nonce: tr.dialerNonce,
		To: to, Incarnation: t.inc, Verify: v, TickTimeUs: tr.dialerTick}); err != nil {
		return peerSide{}, handshakeErr(err)
	}
	var ch wire.Challenge
	if err := readMsg(r, &ch, maxHandshakeMsg); err != nil {
		return peerSide{}, handshakeErr(err)
	}
	if len(ch.GetNonce()) != nonceSize {
		return peerSide{}, fmt.Errorf("%w: the listener's nonce has %d bytes", ErrHandshake, len(ch.GetNonce()))
	}
	if ch.GetTickTimeUs() == 0 {
		return peerSide{}, fmt.Errorf("%w: the listener says no tick time", ErrHandshake)
	}
	tr.listenerNonce, tr.listenerNode, tr.listenerInc = ch.GetNonce(), ch.GetNode(), ch.GetIncarnation()
	tr.listenerTick = ch.GetTickTimeUs()
	if v == nil {
		t.dials.challenged(tr.dialerNonce, tr.listenerNonce) // before the Proof: the listener confirms after it
	}
	tr.dialerClock = int64(t.Clock()) // after the Challenge came
	if err := sendMsg(w, &wire.Proof{Digest: tr.digest(t.cfg.Cookie, roleDialer), ClockNs: tr.dialerClock}); err != nil {
		return peerSide{}, handshakeErr(err)
	}
	var wel wire.Welcome
	if err := readMsg(r, &wel, maxHandshakeMsg); err != nil {
		return peerSide{}, handshakeErr(err)
	}
	switch wel.GetRefused() {
	case wire.Refusal_REFUSAL_NONE:
	case wire.Refusal_REFUSAL_COOKIE:
		return peerSide{}, fmt.Errorf("%w: the listener refused our proof", ErrBadCookie)
	case wire.Refusal_REFUSAL_UNCONFIRMED:
		if v != nil {
			return peerSide{}, fmt.Errorf("%w: %s is not dialing us with those nonces", ErrUnconfirmed, to)
		}
		return peerSide{}, fmt.Errorf("%w: the listener could not confirm our address %s", ErrUnconfirmed, t.addr)
	case wire.Refusal_REFUSAL_MISDIRECTED:
		return peerSide{}, fmt.Errorf("%w: the listener is not %s", ErrMisdirected, to)
	default:
		return peerSide{}, fmt.Errorf("%w: the listener refused the connection: %v", ErrHandshake, wel.GetRefused())
	}
	if !hmac.Equal(wel.GetDigest(), tr.digest(t.cfg.Cookie, roleListener)) {
		return peerSide{}, fmt.Errorf("%w: the listener's proof does not match", ErrBadCookie)
	}
	return peerSide{inc: tr.listenerInc, tick: peerTick(tr.listenerTick)}, nil
}

// errAnswered ends a connection that was a dialback, answered: not a
// refusal, nothing to report.
var errAnswered = errors.New("transport: dialback answered")

// welcome runs the listener's side of the handshake on an accepted
// connection and returns the dialer's address and what it said of
// itself, once that address has confirmed the dial. A dialback is
// answered here and ends with errAnswered.
func (t *Transport) welcome(r *bufio.Reader, w *bufio.Writer) (string, peerSide, error) {
	// The dialback must end before the dialer gives up on its handshake,
	// which its own DialTimeout bounds.
	ctx, cancel := t.bound(t.cfg.DialTimeout * 3 / 4)
	defer cancel()

	var h wire.Hello
	if err := readMsg(r, &h, maxHandshakeMsg); err != nil {
		return "", peerSide{}, handshakeErr(err)
	}
	// A refusal is counted before the dialer can read it, so that whoever
	// sees the dial fail also sees it in Stats.Refused.
	refuse := func(why wire.Refusal, err error) (string, peerSide, error) {
		t.refused.Add(1)
		_ = sendMsg(w, &wire.Welcome{Refused: why})
		return "", peerSide{}, countedRefusal{err}
	}
	if h.GetVersion() != protocolVersion {
		return refuse(wire.Refusal_REFUSAL_VERSION,
			fmt.Errorf("%w: protocol version %d from %q; want %d", ErrHandshake, h.GetVersion(), h.GetAddress(), protocolVersion))
	}
	v := h.GetVerify()
	if h.GetAddress() == "" || len(h.GetNonce()) != nonceSize || h.GetTo() == "" || h.GetTickTimeUs() == 0 ||
		(v != nil && (len(v.GetDialerNonce()) != nonceSize || len(v.GetListenerNonce()) != nonceSize)) {
		return refuse(wire.Refusal_REFUSAL_MALFORMED, fmt.Errorf("%w: hello without address, nonce, destination or tick time", ErrHandshake))
	}
	if !t.designates(ctx, h.GetTo()) {
		return refuse(wire.Refusal_REFUSAL_MISDIRECTED,
			fmt.Errorf("%w: %s (node %q) says it dialed %s", ErrMisdirected, h.GetAddress(), h.GetNode(), h.GetTo()))
	}
	tr := transcript{dialerNonce: h.GetNonce(), listenerNonce: newNonce(), dialerAddr: h.GetAddress(), dialerNode: h.GetNode(),
		listenerNode: t.cfg.Node, to: h.GetTo(), dialerInc: h.GetIncarnation(), listenerInc: t.inc,
		dialerTick: h.GetTickTimeUs(), listenerTick: t.tickMicros(), verify: v}
	challenged := t.Clock() // before the Challenge leaves
	if err := sendMsg(w, &wire.Challenge{Node: t.cfg.Node, Nonce: tr.listenerNonce, Incarnation: t.inc, TickTimeUs: tr.listenerTick}); err != nil {
		return "", peerSide{}, handshakeErr(err)
	}
	var p wire.Proof
	if err := readMsg(r, &p, maxHandshakeMsg); err != nil {
		return "", peerSide{}, handshakeErr(err)
	}
	proved := t.Clock()
	tr.dialerClock = p.GetClockNs()
	if tr.dialerClock < 0 { // a node's clock counts up from 0
		return refuse(wire.Refusal_REFUSAL_MALFORMED, fmt.Errorf("%w: a negative clock in the proof of %s", ErrHandshake, h.GetAddress()))
	}
	if !hmac.Equal(p.GetDigest(), tr.digest(t.cfg.Cookie, roleDialer)) {
		return refuse(wire.Refusal_REFUSAL_COOKIE,
			fmt.Errorf("%w: %s (node %q) does not prove our cookie", ErrBadCookie, h.GetAddress(), h.GetNode()))
	}
	welcome := &wire.Welcome{Digest: tr.digest(t.cfg.Cookie, roleListener)}
	if v != nil { // a dialback: yes (our digest) or no, and nothing more unless kept
		to, ok := t.dials.confirms(v.GetDialerNonce(), v.GetListenerNonce())
		if !ok {
			welcome = &wire.Welcome{Refused: wire.Refusal_REFUSAL_UNCONFIRMED}
			t.log.Info("denied a dial that is not ours", "asker", h.GetAddress())
		}
		if !ok || !v.GetKeep() || to != h.GetAddress() {
			_ = sendMsg(w, welcome)
			return "", peerSide{}, errAnswered
		}
		// Kept (verify.go): the dialer is the node our dial to its
		// address reached, since it knows that dial's nonces; its
		// connection is established as an inbound one of that address.
	} else if err := t.confirm(ctx, h.GetAddress(), h.GetTo(), h.GetNonce(), tr.listenerNonce); err != nil {
		t.unconfirmed.Add(1)
		return refuse(wire.Refusal_REFUSAL_UNCONFIRMED, fmt.Errorf("%w: %s (node %q): %w", ErrUnconfirmed, h.GetAddress(), h.GetNode(), err))
	}
	if err := sendMsg(w, welcome); err != nil {
		return "", peerSide{}, handshakeErr(err)
	}
	return h.GetAddress(), peerSide{inc: h.GetIncarnation(), tick: peerTick(h.GetTickTimeUs()),
		clockLo: challenged - time.Duration(tr.dialerClock), clockSpread: proved - challenged}, nil
}

// handshakeErr wraps an I/O error of the handshake: ErrHandshakeClosed if
// the connection closed, ErrHandshake otherwise.
func handshakeErr(err error) error {
	if closedEarly(err) {
		return fmt.Errorf("%w: %w", ErrHandshakeClosed, err)
	}
	return fmt.Errorf("%w: %w", ErrHandshake, err)
}

// closedEarly reports whether err says that the connection closed, at
// either end, rather than that the peer said something wrong.
func closedEarly(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.EPIPE)
}

// sendMsg writes one length-prefixed message and flushes it.
func sendMsg(w *bufio.Writer, m proto.Message) error {
	b, err := proto.Marshal(m)
	if err != nil {
		return err
	}
	if err := writeMsg(w, b); err != nil {
		return err
	}
	return w.Flush()
}
