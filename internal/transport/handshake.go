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

	"google.golang.org/protobuf/proto"

	"github.com/switchboard-go/switchboard/internal/wire"
)

// The handshake (see wire.proto): Hello, Challenge, Proof, Welcome. Both
// sides prove that they hold the cookie with an HMAC over fresh nonces, so
// the cookie never crosses the network and a recorded handshake cannot be
// replayed. With no cookie on either side the HMAC key is empty and every
// peer that speaks the protocol passes; a cookie on one side only fails.

const (
	protocolVersion = 2
	nonceSize       = 32
	// maxHandshakeMsg bounds the messages read before the peer has proved
	// itself, so that a stranger cannot make a node allocate MaxFrameSize.
	maxHandshakeMsg = 4 << 10

	roleDialer   = "switchboard/2 dialer"
	roleListener = "switchboard/2 listener"
)

// names are what both digests cover besides the nonces.
type names struct {
	dialerAddr, dialerNode, listenerNode string
}

// digest is HMAC-SHA256(cookie, role || dialerNonce || listenerNonce ||
// names), each part length-prefixed so that no two inputs concatenate alike.
func digest(cookie, role string, dialerNonce, listenerNonce []byte, n names) []byte {
	m := hmac.New(sha256.New, []byte(cookie))
	for _, part := range [][]byte{
		[]byte(role), dialerNonce, listenerNonce,
		[]byte(n.dialerAddr), []byte(n.dialerNode), []byte(n.listenerNode),
	} {
		var size [4]byte
		binary.BigEndian.PutUint32(size[:], uint32(len(part)))
		m.Write(size[:])
		m.Write(part)
	}
	return m.Sum(nil)
}

func newNonce() []byte {
	b := make([]byte, nonceSize)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return b
}

// greet runs the dialer's side of the handshake on a new connection.
func (t *Transport) greet(r *bufio.Reader, w *bufio.Writer) error {
	nd := newNonce()
	if err := sendMsg(w, &wire.Hello{Version: protocolVersion, Address: t.addr, Node: t.cfg.Node, Nonce: nd}); err != nil {
		return handshakeErr(err)
	}
	var ch wire.Challenge
	if err := readMsg(r, &ch, maxHandshakeMsg); err != nil {
		return handshakeErr(err)
	}
	if len(ch.GetNonce()) != nonceSize {
		return fmt.Errorf("%w: the listener's nonce has %d bytes", ErrHandshake, len(ch.GetNonce()))
	}
	n := names{dialerAddr: t.addr, dialerNode: t.cfg.Node, listenerNode: ch.GetNode()}
	if err := sendMsg(w, &wire.Proof{Digest: digest(t.cfg.Cookie, roleDialer, nd, ch.GetNonce(), n)}); err != nil {
		return handshakeErr(err)
	}
	var wel wire.Welcome
	if err := readMsg(r, &wel, maxHandshakeMsg); err != nil {
		return handshakeErr(err)
	}
	switch wel.GetRefused() {
	case wire.Refusal_REFUSAL_NONE:
	case wire.Refusal_REFUSAL_COOKIE:
		return fmt.Errorf("%w: the listener refused our proof", ErrBadCookie)
	default:
		return fmt.Errorf("%w: the listener refused the connection: %v", ErrHandshake, wel.GetRefused())
	}
	if !hmac.Equal(wel.GetDigest(), digest(t.cfg.Cookie, roleListener, nd, ch.GetNonce(), n)) {
		return fmt.Errorf("%w: the listener's proof does not match", ErrBadCookie)
	}
	return nil
}

// welcome runs the listener's side of the handshake on an accepted
// connection and returns the dialer's address.
func (t *Transport) welcome(r *bufio.Reader, w *bufio.Writer) (string, error) {
	var h wire.Hello
	if err := readMsg(r, &h, maxHandshakeMsg); err != nil {
		return "", handshakeErr(err)
	}
	refuse := func(why wire.Refusal, err error) (string, error) {
		_ = sendMsg(w, &wire.Welcome{Refused: why})
		return "", err
	}
	if h.GetVersion() != protocolVersion {
		return refuse(wire.Refusal_REFUSAL_VERSION,
			fmt.Errorf("%w: protocol version %d from %q; want %d", ErrHandshake, h.GetVersion(), h.GetAddress(), protocolVersion))
	}
	if h.GetAddress() == "" || len(h.GetNonce()) != nonceSize {
		return refuse(wire.Refusal_REFUSAL_MALFORMED, fmt.Errorf("%w: hello without address or nonce", ErrHandshake))
	}
	nl := newNonce()
	if err := sendMsg(w, &wire.Challenge{Node: t.cfg.Node, Nonce: nl}); err != nil {
		return "", handshakeErr(err)
	}
	var p wire.Proof
	if err := readMsg(r, &p, maxHandshakeMsg); err != nil {
		return "", handshakeErr(err)
	}
	n := names{dialerAddr: h.GetAddress(), dialerNode: h.GetNode(), listenerNode: t.cfg.Node}
	if !hmac.Equal(p.GetDigest(), digest(t.cfg.Cookie, roleDialer, h.GetNonce(), nl, n)) {
		return refuse(wire.Refusal_REFUSAL_COOKIE,
			fmt.Errorf("%w: %s (node %q) does not prove our cookie", ErrBadCookie, h.GetAddress(), h.GetNode()))
	}
	if err := sendMsg(w, &wire.Welcome{Digest: digest(t.cfg.Cookie, roleListener, h.GetNonce(), nl, n)}); err != nil {
		return "", handshakeErr(err)
	}
	return h.GetAddress(), nil
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
