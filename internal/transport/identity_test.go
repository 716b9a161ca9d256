package transport

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/switchboard-go/switchboard/internal/wire"
)

// impostor is a dialer that claims the address claim: it knows the
// protocol and cookie but is not the node listening there.
func impostor(claim, cookie string) *Transport {
	return &Transport{addr: claim, cfg: Config{Cookie: cookie, Node: "impostor"}, log: slog.New(slog.DiscardHandler), inc: 7}
}

// greetAs runs d's dialer handshake on a new bare connection to addr.
func greetAs(t *testing.T, d *Transport, addr string) (net.Conn, error) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	_, err = d.greet(bufio.NewReader(c), bufio.NewWriter(c), addr, nil)
	_ = c.SetDeadline(time.Time{})
	return c, err
}

// sendRaw writes f on a bare connection that passed the handshake.
func sendRaw(t *testing.T, c net.Conn, f *wire.Frame) {
	t.Helper()
	b, err := marshalFrame(f)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write(b); err != nil {
		t.Fatal(err)
	}
}

// A cookie holder that claims another node's address is refused: that
// address does not confirm the dial. Nothing it sends is delivered,
// nothing is reported down, and the real node's connection goes on. One
// without the cookie is refused before the listener dials anyone back.
func TestImpostorIsRefused(t *testing.T) {
	a, _ := listenWith(t, Config{Cookie: "k"})
	b, sb := listenWith(t, Config{Cookie: "k"})
	if err := a.Send(b.Addr(), &wire.Frame{To: "before"}); err != nil {
		t.Fatal(err)
	}
	wait(t, sb.frames)
	for i, claim := range []string{a.Addr(), b.Addr(), "127.0.0.1:1"} { // another node, the listener itself, nobody
		if _, err := greetAs(t, impostor(claim, "k"), b.Addr()); !errors.Is(err, ErrUnconfirmed) {
			t.Fatalf("impostor claiming %s: %v; want ErrUnconfirmed", claim, err)
		}
		wait(t, sb.warns)
		if got := b.Stats(); got.Unconfirmed != uint64(i+1) || got.Refused != uint64(i+1) {
			t.Fatalf("after %d impostors: %+v", i+1, got)
		}
	}
	// Without the cookie: refused at the proof, no dialback.
	if _, err := greetAs(t, impostor(a.Addr(), "guess"), b.Addr()); !errors.Is(err, ErrBadCookie) {
		t.Fatalf("impostor without the cookie: %v; want ErrBadCookie", err)
	}
	wait(t, sb.warns)
	if got := b.Stats(); got.Unconfirmed != 3 || got.Refused != 4 {
		t.Fatalf("after the cookieless impostor: %+v", got)
	}
	// One that hangs up right after its proof.
	c, err := net.Dial("tcp", b.Addr())
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	r, w := bufio.NewReader(c), bufio.NewWriter(c)
	tr := transcript{dialerNonce: newNonce(), dialerAddr: a.Addr(), to: b.Addr(), dialerTick: 1}
	if err := sendMsg(w, &wire.Hello{Version: protocolVersion, Address: a.Addr(), Nonce: tr.dialerNonce, To: b.Addr(), TickTimeUs: 1}); err != nil {
		t.Fatal(err)
	}
	var ch wire.Challenge
	if err := readMsg(r, &ch, maxHandshakeMsg); err != nil {
		t.Fatal(err)
	}
	tr.listenerNonce, tr.listenerNode, tr.listenerInc, tr.listenerTick = ch.Nonce, ch.Node, ch.Incarnation, ch.TickTimeUs
	if err := sendMsg(w, &wire.Proof{Digest: tr.digest("k", roleDialer)}); err != nil {
		t.Fatal(err)
	}
	_ = c.Close()
	wait(t, sb.warns)
	if got := b.Stats().Unconfirmed; got != 4 {
		t.Fatalf("unconfirmed = %d; want 4", got)
	}
	if err := a.Send(b.Addr(), &wire.Frame{To: "after"}); err != nil {
		t.Fatal(err)
	}
	if f := wait(t, sb.frames); f.To != "after" {
		t.Fatalf("got %q; want only the real node's frames", f.To)
	}
	none(t, sb.down, "an impostor made the listener report a peer down")
}

// relay starts a listener that forwards the handshake of whoever dials it
// to target, with rewrite applied to the Hello, and returns its address
// and the Welcome target answered.
func relay(t *testing.T, target string, rewrite func(*wire.Hello)) (string, <-chan *wire.Welcome) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	got := make(chan *wire.Welcome, 1)
	go func() {
		ca, err := ln.Accept()
		if err != nil {
			return
		}
		defer ca.Close()
		cb, err := net.Dial("tcp", target)
		if err != nil {
			return
		}
		defer cb.Close()
		_ = ca.SetDeadline(time.Now().Add(10 * time.Second))
		_ = cb.SetDeadline(time.Now().Add(10 * time.Second))
		ra, wa, rb, wb := bufio.NewReader(ca), bufio.NewWriter(ca), bufio.NewReader(cb), bufio.NewWriter(cb)
		var h wire.Hello
		var ch wire.Challenge
		var p wire.Proof
		var wel wire.Welcome
		if readMsg(ra, &h, maxHandshakeMsg) != nil {
			return
		}
		rewrite(&h)
		if sendMsg(wb, &h) != nil {
			return
		}
		first, err := readRaw(rb)
		if err != nil {
			return
		}
		// A refusal of the Hello comes instead of the Challenge.
		if proto.Unmarshal(first, &wel) == nil && wel.Refused != wire.Refusal_REFUSAL_NONE {
			got <- &wel
			return
		}
		if proto.Unmarshal(first, &ch) != nil || sendMsg(wa, &ch) != nil ||
			readMsg(ra, &p, maxHandshakeMsg) != nil || sendMsg(wb, &p) != nil || readMsg(rb, &wel, maxHandshakeMsg) != nil {
			return
		}
		got <- &wel
	}()
	return ln.Addr().String(), got
}

// readRaw reads one length-prefixed message's bytes.
func readRaw(r *bufio.Reader) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	b := make([]byte, min(binary.BigEndian.Uint32(hdr[:]), maxHandshakeMsg))
	_, err := io.ReadFull(r, b)
	return b, err
}

// A cookie holder cannot relay another node's handshake to a third node to
// speak for it there: the Hello names the relay, and rewriting that breaks
// the proof.
func TestRelayedHandshakeIsRefused(t *testing.T) {
	for _, tc := range []struct {
		name    string
		rewrite func(to string) func(*wire.Hello)
		want    wire.Refusal
	}{
		{"as is", func(string) func(*wire.Hello) { return func(*wire.Hello) {} }, wire.Refusal_REFUSAL_MISDIRECTED},
		{"to rewritten", func(to string) func(*wire.Hello) { return func(h *wire.Hello) { h.To = to } }, wire.Refusal_REFUSAL_COOKIE},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, _ := listenWith(t, Config{Cookie: "k"})
			b, sb := listenWith(t, Config{Cookie: "k"})
			addr, welcome := relay(t, b.Addr(), tc.rewrite(b.Addr()))
			if err := a.Send(addr, &wire.Frame{To: "for the relay"}); err != nil {
				t.Fatal(err)
			}
			if wel := wait(t, welcome); wel.Refused != tc.want {
				t.Fatalf("welcome %v; want %v", wel, tc.want)
			}
			wait(t, sb.warns)
			none(t, sb.down, "a relayed handshake made the listener report a peer down")
			none(t, sb.frames, "a relayed handshake delivered a frame")
		})
	}
}

// The node itself opening a new connection replaces its established one,
// which is reported down once (ErrReconnected) before the new one
// delivers; a new incarnation at the address does too, with ErrRestarted.
func TestNewConnectionReplacesTheEstablishedOne(t *testing.T) {
	a, _ := listenWith(t, Config{Cookie: "k"})
	// b's dialbacks to a's address reach whoever is "the node at a" now.
	var mu sync.Mutex
	route := map[string]string{}
	d := &net.Dialer{}
	b, sb := listenWith(t, Config{Cookie: "k", dial: func(ctx context.Context, addr string) (net.Conn, error) {
		mu.Lock()
		if to, ok := route[addr]; ok {
			addr = to
		}
		mu.Unlock()
		return d.DialContext(ctx, "tcp", addr)
	}})
	if err := a.Send(b.Addr(), &wire.Frame{To: "1"}); err != nil {
		t.Fatal(err)
	}
	wait(t, sb.frames)

	c, err := greetAs(t, a, b.Addr())
	if err != nil {
		t.Fatal(err)
	}
	if got := wait(t, sb.down); got != a.Addr() {
		t.Fatalf("reported %q; want %q", got, a.Addr())
	}
	if err := wait(t, sb.why); !errors.Is(err, ErrReconnected) {
		t.Fatalf("down because %v; want ErrReconnected", err)
	}
	sendRaw(t, c, &wire.Frame{To: "2"})
	if f := wait(t, sb.frames); f.To != "2" {
		t.Fatalf("got %q from the new connection", f.To)
	}
	none(t, sb.down, "replaced connection reported twice")

	// a restarts at its address: a2 answers there now, another incarnation.
	a2, _ := listenWith(t, Config{Cookie: "k", advertise: a.Addr(), Incarnation: a.inc + 1})
	mu.Lock()
	route[a.Addr()] = a2.ln.Addr().String()
	mu.Unlock()
	c2, err := greetAs(t, a2, b.Addr())
	if err != nil {
		t.Fatal(err)
	}
	if got := wait(t, sb.down); got != a.Addr() {
		t.Fatalf("reported %q; want %q", got, a.Addr())
	}
	if err := wait(t, sb.why); !errors.Is(err, ErrRestarted) {
		t.Fatalf("down because %v; want ErrRestarted", err)
	}
	sendRaw(t, c2, &wire.Frame{To: "3"})
	if f := wait(t, sb.frames); f.To != "3" {
		t.Fatalf("got %q from the new incarnation", f.To)
	}
	// b's own connection to the old life (the dialback of a's first
	// connection, which b kept: verify.go) is cut and reported too.
	select {
	case got := <-sb.down:
		if err := <-sb.why; got != a.Addr() || !errors.Is(err, ErrRestarted) {
			t.Fatalf("reported %q (%v); want %q, ErrRestarted", got, err, a.Addr())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("b's connection to the old life was not reported down")
	}
	sendRaw(t, c, &wire.Frame{To: "old"}) // the old life's connection is closed
	none(t, sb.down, "restart reported twice")
	if got := b.Stats().Refused; got != 0 {
		t.Fatalf("refused %d", got)
	}
}

// Nodes dialing each other at once, and a node dialing itself, connect:
// each answers the other's dialback on a connection of its own.
func TestSimultaneousAndSelfDials(t *testing.T) {
	const pairs = 10
	for i := range pairs {
		a, sa := listenWith(t, Config{Cookie: "k"})
		b, sb := listenWith(t, Config{Cookie: "k"})
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); _ = a.Send(b.Addr(), &wire.Frame{To: "ab" + strconv.Itoa(i)}) }()
		go func() { defer wg.Done(); _ = b.Send(a.Addr(), &wire.Frame{To: "ba" + strconv.Itoa(i)}) }()
		wg.Wait()
		if f := wait(t, sb.frames); f.To != "ab"+strconv.Itoa(i) {
			t.Fatalf("b got %q", f.To)
		}
		if f := wait(t, sa.frames); f.To != "ba"+strconv.Itoa(i) {
			t.Fatalf("a got %q", f.To)
		}
		if err := a.Send(a.Addr(), &wire.Frame{To: "self"}); err != nil {
			t.Fatal(err)
		}
		if f := wait(t, sa.frames); f.To != "self" {
			t.Fatalf("a got %q from itself", f.To)
		}
		if a.Stats().Refused+b.Stats().Refused != 0 {
			t.Fatalf("refused: a %+v, b %+v", a.Stats(), b.Stats())
		}
		_ = a.Close()
		_ = b.Close()
	}
}

// designates accepts the listener's own address in any spelling that
// resolves to it, and nothing else.
func TestDesignates(t *testing.T) {
	a, _ := listen(t)
	_, port, _ := net.SplitHostPort(a.Addr())
	ctx := context.Background()
	for addr, want := range map[string]bool{
		a.Addr():                 true,
		"localhost:" + port:      true,
		"127.0.0.1:" + port:      true,
		"127.0.0.2:" + port:      false,
		"127.0.0.1:1":            false,
		"[::1]:" + port:          false,
		"no port":                false,
		"nosuch.invalid:" + port: false,
	} {
		if got := a.designates(ctx, addr); got != want {
			t.Errorf("designates(%q) = %v; want %v", addr, got, want)
		}
	}
	all, err := Listen(Config{Listen: "0.0.0.0:0", Handler: func(string, *wire.Frame) {}, PeerDown: func(string, error) {}})
	if err != nil {
		t.Fatal(err)
	}
	defer all.Close()
	_, port, _ = net.SplitHostPort(all.Addr())
	for addr, want := range map[string]bool{
		all.Addr():          true,
		"127.0.0.1:" + port: true,
		"localhost:" + port: true,
		"127.0.0.1:1":       false,
		"192.0.2.1:" + port: false, // TEST-NET-1: no interface of this machine
	} {
		if got := all.designates(ctx, addr); got != want {
			t.Errorf("listening on all addresses: designates(%q) = %v; want %v", addr, got, want)
		}
	}
}
