package transport

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"runtime"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/switchboard-go/switchboard/internal/wire"
)

// maxHandshakeAlloc bounds what one handshake may allocate, whatever the
// peer sends: its messages are read under maxHandshakeMsg each.
const maxHandshakeAlloc = 256 << 10

// allocated is the bytes this process has allocated so far.
func allocated() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.TotalAlloc
}

// stream is msgs, each length-prefixed, as a peer writes them.
func stream(msgs ...proto.Message) []byte {
	var b bytes.Buffer
	w := bufio.NewWriter(&b)
	for _, m := range msgs {
		_ = sendMsg(w, m)
	}
	return b.Bytes()
}

// fuzzTransport listens on loopback with a cookie; it dials nobody and
// resolves no name through the network, whatever a fuzzed Hello claims.
func fuzzTransport(f *testing.F) *Transport {
	noNet := func(context.Context, string, string) (net.Conn, error) {
		return nil, errors.New("no network in a fuzz test")
	}
	tr, err := Listen(Config{
		Listen:   "127.0.0.1:0",
		Cookie:   "k",
		Handler:  func(string, *wire.Frame) {},
		PeerDown: func(string, error) {},
		dial:     func(ctx context.Context, addr string) (net.Conn, error) { return noNet(ctx, "tcp", addr) },
		resolver: &net.Resolver{PreferGo: true, Dial: noNet},
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = tr.Close() })
	return tr
}

// FuzzWelcome feeds arbitrary bytes, as a dialer's side of a connection,
// to the listener's handshake: it must not panic, must refuse with an
// error wrapping ErrHandshake (nobody who sees no challenge can prove
// anything), and must allocate a bounded amount.
func FuzzWelcome(f *testing.F) {
	tr := fuzzTransport(f)
	hello := func(mod func(*wire.Hello)) *wire.Hello {
		h := &wire.Hello{Version: protocolVersion, Address: "127.0.0.1:9", Node: "x@h", Nonce: newNonce(), To: tr.Addr(), Incarnation: 1, TickTimeUs: 4e6}
		mod(h)
		return h
	}
	proof := &wire.Proof{Digest: make([]byte, 32)}
	f.Add(stream(hello(func(*wire.Hello) {}), proof))
	f.Add(stream(hello(func(*wire.Hello) {}), &wire.Proof{Digest: make([]byte, 32), ClockNs: -1 << 63})) // a clock stamp, extreme
	f.Add(stream(hello(func(*wire.Hello) {}), &wire.Proof{Digest: make([]byte, 32), ClockNs: 1<<63 - 1}))
	f.Add(stream(hello(func(h *wire.Hello) { h.Verify = &wire.Verify{DialerNonce: newNonce(), ListenerNonce: newNonce()} }), proof))
	f.Add(stream(hello(func(h *wire.Hello) { h.To = "localhost:1" }), proof))
	f.Add(stream(hello(func(h *wire.Hello) { h.Version = 2 })))
	f.Add(stream(hello(func(h *wire.Hello) { h.Nonce = nil })))
	f.Add(stream(hello(func(h *wire.Hello) { h.TickTimeUs = 0 })))
	f.Add(stream(hello(func(h *wire.Hello) { h.TickTimeUs = 1<<64 - 1 }), proof))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff}) // a 4 GiB Hello
	f.Add(append(stream(hello(func(*wire.Hello) {})), 0x7f, 0xff, 0xff, 0xff))
	f.Add([]byte{0, 0, 0, 3, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bufio.NewReaderSize(bytes.NewReader(data), 512)
		before := allocated()
		addr, _, err := tr.welcome(r, bufio.NewWriterSize(io.Discard, 512))
		if err == nil {
			t.Fatalf("welcomed %q", addr)
		}
		if !errors.Is(err, ErrHandshake) {
			t.Fatalf("refused with an untyped error: %v", err)
		}
		if d := allocated() - before; d > maxHandshakeAlloc {
			t.Fatalf("allocated %d bytes", d)
		}
	})
}

// FuzzGreet feeds arbitrary bytes, as a listener's side of a connection,
// to the dialer's handshake (and to a dialback's): the same rules.
func FuzzGreet(f *testing.F) {
	tr := fuzzTransport(f)
	ch := &wire.Challenge{Node: "y@h", Nonce: newNonce(), Incarnation: 2, TickTimeUs: 4e6}
	f.Add(stream(ch, &wire.Welcome{Digest: make([]byte, 32)}), false)
	f.Add(stream(ch, &wire.Welcome{Refused: wire.Refusal_REFUSAL_UNCONFIRMED}), true)
	f.Add(stream(ch, &wire.Welcome{Refused: wire.Refusal_REFUSAL_MISDIRECTED}), false)
	f.Add(stream(&wire.Welcome{Refused: wire.Refusal_REFUSAL_VERSION}), false)
	f.Add(stream(&wire.Challenge{Nonce: []byte{1}}), false)
	f.Add(stream(&wire.Challenge{Node: "y@h", Nonce: newNonce(), Incarnation: 2}, &wire.Welcome{Digest: make([]byte, 32)}), false) // no tick time
	f.Add(stream(&wire.Challenge{Node: "y@h", Nonce: newNonce(), Incarnation: 2, TickTimeUs: 1<<64 - 1}, &wire.Welcome{Digest: make([]byte, 32)}), false)
	f.Add([]byte{0xff, 0xff, 0xff, 0xff}, false)
	f.Fuzz(func(t *testing.T, data []byte, verify bool) {
		var v *wire.Verify
		if verify {
			v = &wire.Verify{DialerNonce: newNonce(), ListenerNonce: newNonce()}
		}
		r := bufio.NewReaderSize(bytes.NewReader(data), 512)
		before := allocated()
		_, err := tr.greet(r, bufio.NewWriterSize(io.Discard, 512), "127.0.0.1:9", v)
		if err == nil {
			t.Fatal("the dialer accepted a listener that cannot know its nonce")
		}
		if !errors.Is(err, ErrHandshake) {
			t.Fatalf("refused with an untyped error: %v", err)
		}
		if d := allocated() - before; d > maxHandshakeAlloc {
			t.Fatalf("allocated %d bytes", d)
		}
		if _, ok := tr.dials.confirms(nil, nil); ok || len(tr.dials.m) != 0 {
			t.Fatal("a failed handshake left its dial recorded")
		}
	})
}
