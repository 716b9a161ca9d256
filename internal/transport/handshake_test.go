package transport

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/internal/wire"
)

func TestSameCookieConnects(t *testing.T) {
	a, sa := listenWith(t, Config{Cookie: "s3cret"})
	b, sb := listenWith(t, Config{Cookie: "s3cret"})
	if err := a.Send(b.Addr(), &wire.Frame{To: "ab"}); err != nil {
		t.Fatal(err)
	}
	if err := b.Send(a.Addr(), &wire.Frame{To: "ba"}); err != nil {
		t.Fatal(err)
	}
	if f := wait(t, sb.frames); f.To != "ab" {
		t.Fatalf("b got %q", f.To)
	}
	if f := wait(t, sa.frames); f.To != "ba" {
		t.Fatalf("a got %q", f.To)
	}
	if a.Stats().Refused+b.Stats().Refused != 0 {
		t.Fatalf("refused: a %+v, b %+v", a.Stats(), b.Stats())
	}
}

// A peer with another cookie, or with a cookie where the listener has none
// or the other way round, is refused at the handshake: nothing it sends is
// delivered, both sides count and log it, the dialer reports the listener
// down with ErrBadCookie, and the listener keeps serving others.
func TestCookieMismatchIsRefused(t *testing.T) {
	for _, tc := range []struct{ name, dialer, listener string }{
		{"different", "one", "two"},
		{"listener has none", "one", ""},
		{"dialer has none", "", "two"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, sa := listenWith(t, Config{Cookie: tc.dialer})
			b, sb := listenWith(t, Config{Cookie: tc.listener})
			if err := a.Send(b.Addr(), &wire.Frame{To: "intruder"}); err != nil {
				t.Fatal(err)
			}
			if got := wait(t, sa.down); got != b.Addr() {
				t.Fatalf("dialer reported %q down; want %q", got, b.Addr())
			}
			if err := wait(t, sa.why); !errors.Is(err, ErrBadCookie) || !errors.Is(err, ErrHandshake) {
				t.Fatalf("down because %v; want ErrBadCookie", err)
			}
			if msg := wait(t, sb.warns); msg != "handshake refused" {
				t.Fatalf("listener warned %q", msg)
			}
			if msg := wait(t, sa.warns); msg != "handshake refused" {
				t.Fatalf("dialer warned %q", msg)
			}
			if got := b.Stats().Refused; got != 1 {
				t.Fatalf("listener refused = %d; want 1", got)
			}
			if got := a.Stats().Refused; got != 1 {
				t.Fatalf("dialer refused = %d; want 1", got)
			}
			// The listener still serves a peer with its cookie.
			c, _ := listenWith(t, Config{Cookie: tc.listener})
			if err := c.Send(b.Addr(), &wire.Frame{To: "friend"}); err != nil {
				t.Fatal(err)
			}
			if f := wait(t, sb.frames); f.To != "friend" {
				t.Fatalf("listener got %q; want only the friend's frame", f.To)
			}
			none(t, sb.down, "the listener reported a refused dialer down")
		})
	}
}

// The dialer checks the listener's proof too: a listener that does not hold
// the cookie gets no frame.
func TestDialerRefusesListenerWithoutCookie(t *testing.T) {
	a, sa := listenWith(t, Config{Cookie: "s3cret"})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if err := a.Send(ln.Addr().String(), &wire.Frame{To: "secret stuff"}); err != nil {
		t.Fatal(err)
	}
	_ = ln.(*net.TCPListener).SetDeadline(time.Now().Add(10 * time.Second))
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	// An impostor that plays the protocol but guesses the digest.
	r, w := bufio.NewReader(c), bufio.NewWriter(c)
	var h wire.Hello
	var p wire.Proof
	if err := readMsg(r, &h, maxHandshakeMsg); err != nil {
		t.Fatal(err)
	}
	if err := sendMsg(w, &wire.Challenge{Node: "impostor", Nonce: newNonce(), TickTimeUs: 1}); err != nil {
		t.Fatal(err)
	}
	if err := readMsg(r, &p, maxHandshakeMsg); err != nil {
		t.Fatal(err)
	}
	if err := sendMsg(w, &wire.Welcome{Digest: p.Digest}); err != nil { // a reflected digest
		t.Fatal(err)
	}
	if rest, err := io.ReadAll(r); err != nil || len(rest) != 0 {
		t.Fatalf("the impostor received %d bytes (%v); want none", len(rest), err)
	}
	if err := wait(t, sa.why); !errors.Is(err, ErrBadCookie) {
		t.Fatalf("down because %v; want ErrBadCookie", err)
	}
	if got := a.Stats().Refused; got != 1 {
		t.Fatalf("refused = %d; want 1", got)
	}
}

func TestListenerRefusesOtherVersionsAndMalformedHellos(t *testing.T) {
	b, sb := listen(t)
	for _, tc := range []struct {
		hello *wire.Hello
		want  wire.Refusal
	}{
		{&wire.Hello{Version: 2, Address: "x", Nonce: newNonce(), To: b.Addr()}, wire.Refusal_REFUSAL_VERSION},
		{&wire.Hello{Version: 3, Address: "x", Nonce: newNonce(), To: b.Addr(), TickTimeUs: 1}, wire.Refusal_REFUSAL_VERSION},
		{&wire.Hello{Version: protocolVersion, Address: "x", To: b.Addr(), TickTimeUs: 1}, wire.Refusal_REFUSAL_MALFORMED},
		{&wire.Hello{Version: protocolVersion, Nonce: newNonce(), To: b.Addr(), TickTimeUs: 1}, wire.Refusal_REFUSAL_MALFORMED},
		{&wire.Hello{Version: protocolVersion, Address: "x", Nonce: newNonce(), TickTimeUs: 1}, wire.Refusal_REFUSAL_MALFORMED},
		{&wire.Hello{Version: protocolVersion, Address: "x", Nonce: newNonce(), To: b.Addr()}, wire.Refusal_REFUSAL_MALFORMED}, // no tick time
		{&wire.Hello{Version: protocolVersion, Address: "x", Nonce: newNonce(), To: b.Addr(), TickTimeUs: 1, Verify: &wire.Verify{DialerNonce: newNonce()}}, wire.Refusal_REFUSAL_MALFORMED},
		{&wire.Hello{Version: protocolVersion, Address: "x", Nonce: newNonce(), To: "127.0.0.1:1", TickTimeUs: 1}, wire.Refusal_REFUSAL_MISDIRECTED},
	} {
		c, err := net.Dial("tcp", b.Addr())
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		r := bufio.NewReader(c)
		var wel wire.Welcome
		if err := sendMsg(bufio.NewWriter(c), tc.hello); err != nil {
			t.Fatal(err)
		}
		if err := readMsg(r, &wel, maxHandshakeMsg); err != nil || wel.Refused != tc.want {
			t.Fatalf("hello %v: welcome %v, %v; want %v", tc.hello, &wel, err, tc.want)
		}
		if _, err := r.ReadByte(); err == nil {
			t.Fatal("a refused connection stayed open")
		}
		_ = c.Close()
		wait(t, sb.warns)
	}
	if got := b.Stats().Refused; got != 8 {
		t.Fatalf("refused = %d; want 8", got)
	}
}

// Each digest covers the cookie, the role and every part of the
// transcript, each length-prefixed.
func TestDigestCoversEveryPart(t *testing.T) {
	nd, nl := bytes.Repeat([]byte{1}, nonceSize), bytes.Repeat([]byte{2}, nonceSize)
	base := func() transcript {
		return transcript{dialerNonce: nd, listenerNonce: nl, dialerAddr: "127.0.0.1:1", dialerNode: "a@h",
			listenerNode: "b@h", to: "127.0.0.1:2", dialerInc: 1, listenerInc: 2, dialerTick: 3, listenerTick: 4}
	}
	tr := base()
	want := tr.digest("c", roleDialer)
	if !bytes.Equal(want, tr.digest("c", roleDialer)) {
		t.Fatal("digest is not deterministic")
	}
	v := &wire.Verify{DialerNonce: nd, ListenerNonce: nl}
	for name, change := range map[string]func(*transcript){
		"nonces":          func(tr *transcript) { tr.dialerNonce, tr.listenerNonce = nl, nd },
		"dialer addr":     func(tr *transcript) { tr.dialerAddr = "127.0.0.1:3" },
		"dialer node":     func(tr *transcript) { tr.dialerNode = "x@h" },
		"listener node":   func(tr *transcript) { tr.listenerNode = "x@h" },
		"to":              func(tr *transcript) { tr.to = "127.0.0.1:3" },
		"incarnations":    func(tr *transcript) { tr.dialerInc, tr.listenerInc = 2, 1 },
		"tick times":      func(tr *transcript) { tr.dialerTick, tr.listenerTick = 4, 3 },
		"a tick time":     func(tr *transcript) { tr.listenerTick = 5 },
		"a verify":        func(tr *transcript) { tr.verify = v },
		"verify nonces":   func(tr *transcript) { tr.verify = &wire.Verify{DialerNonce: nl, ListenerNonce: nd} },
		"an empty verify": func(tr *transcript) { tr.verify = &wire.Verify{} },
		"boundaries":      func(tr *transcript) { tr.dialerNode, tr.listenerNode = "a@hb", "@h" },
	} {
		tr := base()
		change(&tr)
		if bytes.Equal(want, tr.digest("c", roleDialer)) {
			t.Errorf("changing the %s does not change the digest", name)
		}
	}
	for name, d := range map[string][]byte{
		"cookie":    tr.digest("d", roleDialer),
		"no cookie": tr.digest("", roleDialer),
		"role":      tr.digest("c", roleListener),
	} {
		if bytes.Equal(want, d) {
			t.Errorf("changing the %s does not change the digest", name)
		}
	}
	tv := base()
	tv.verify = v
	if bytes.Equal(tv.digest("c", roleDialer), (&transcript{verify: &wire.Verify{}}).digest("c", roleDialer)) {
		t.Error("digest ignores the verify")
	}
}

// A listener that closes the connection before the handshake completes (a
// node stopping) is no refusal: the dialer reports it down with
// ErrHandshakeClosed, warns of nothing and counts nothing.
func TestDialerClosedDuringHandshakeIsNoRefusal(t *testing.T) {
	for _, tc := range []struct {
		name  string
		close func(c net.Conn)
		// A reset may reach the dialer before its dial returns: then the
		// dial fails, which is no handshake at all.
		dialMayFail bool
	}{
		{"at once", func(c net.Conn) { _ = c.Close() }, false},
		{"after the hello", func(c net.Conn) {
			var h wire.Hello
			_ = readMsg(bufio.NewReader(c), &h, maxHandshakeMsg)
			_ = c.Close()
		}, false},
		{"reset", func(c net.Conn) {
			_ = c.(*net.TCPConn).SetLinger(0) // close with a RST
			_ = c.Close()
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, sa := listenWith(t, Config{Cookie: "s3cret"})
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			if err := a.Send(ln.Addr().String(), &wire.Frame{To: "x"}); err != nil {
				t.Fatal(err)
			}
			_ = ln.(*net.TCPListener).SetDeadline(time.Now().Add(10 * time.Second))
			c, err := ln.Accept()
			if err != nil {
				t.Fatal(err)
			}
			_ = c.SetDeadline(time.Now().Add(10 * time.Second))
			tc.close(c)
			if got := wait(t, sa.down); got != ln.Addr().String() {
				t.Fatalf("reported %q down; want %q", got, ln.Addr())
			}
			err = wait(t, sa.why)
			dialFailed := tc.dialMayFail && err != nil && !errors.Is(err, ErrHandshake)
			if !dialFailed && !errors.Is(err, ErrHandshakeClosed) {
				t.Fatalf("down because %v; want ErrHandshakeClosed", err)
			}
			none(t, sa.warns, "the dialer warned of a connection closed during the handshake")
			if got := a.Stats().Refused; got != 0 {
				t.Fatalf("refused = %d; want 0", got)
			}
		})
	}
}

// A dialer that goes away during the handshake is no refusal either: the
// listener warns of nothing, counts nothing, and keeps serving.
func TestListenerClosedDuringHandshakeIsNoRefusal(t *testing.T) {
	b, sb := listenWith(t, Config{Cookie: "s3cret"})
	for _, send := range []func(w *bufio.Writer) error{
		func(*bufio.Writer) error { return nil }, // closes before its hello
		func(w *bufio.Writer) error { // closes after it, before its proof
			return sendMsg(w, &wire.Hello{Version: protocolVersion, Address: "x", Node: "x@h", Nonce: newNonce(), To: b.Addr(), TickTimeUs: 1})
		},
	} {
		c, err := net.Dial("tcp", b.Addr())
		if err != nil {
			t.Fatal(err)
		}
		if err := send(bufio.NewWriter(c)); err != nil {
			t.Fatal(err)
		}
		_ = c.Close()
	}
	// A friend's frame after them; then, once the friend's is the only
	// connection left, the listener has handled both early closes (it
	// forgets a connection after logging how it ended).
	c, _ := listenWith(t, Config{Cookie: "s3cret"})
	if err := c.Send(b.Addr(), &wire.Frame{To: "friend"}); err != nil {
		t.Fatal(err)
	}
	if f := wait(t, sb.frames); f.To != "friend" {
		t.Fatalf("got %q", f.To)
	}
	for deadline := time.Now().Add(10 * time.Second); inboundConns(b) != 1; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d inbound connections; want only the friend's", inboundConns(b))
		}
	}
	none(t, sb.warns, "the listener warned of a dialer that went away")
	if got := b.Stats().Refused; got != 0 {
		t.Fatalf("refused = %d; want 0", got)
	}
}

func inboundConns(t *Transport) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.in)
}
