package transport

import (
	"bufio"
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/internal/wire"
)

// Two nodes that send to each other make two connections: b keeps the
// dialback that confirmed a's connection as its own to a, and a, whose
// address that connection confirmed, needs no dialback of b. Before, each
// direction made its connection and its dialback: four dials.
func TestPairMakesTwoConnections(t *testing.T) {
	var dials atomic.Int32
	d := &net.Dialer{}
	counting := func(ctx context.Context, addr string) (net.Conn, error) {
		dials.Add(1)
		return d.DialContext(ctx, "tcp", addr)
	}
	a, sa := listenWith(t, Config{Cookie: "k", dial: counting})
	b, sb := listenWith(t, Config{Cookie: "k", dial: counting})
	if err := a.Send(b.Addr(), &wire.Frame{To: "1"}); err != nil {
		t.Fatal(err)
	}
	wait(t, sb.frames)
	if err := b.Send(a.Addr(), &wire.Frame{To: "2"}); err != nil {
		t.Fatal(err)
	}
	if f := wait(t, sa.frames); f.To != "2" {
		t.Fatalf("a got %q", f.To)
	}
	if got := dials.Load(); got != 2 {
		t.Fatalf("%d dials for a pair that talks both ways; want 2 (a's connection and b's dialback, kept)", got)
	}
	if a.Stats().Refused != 0 || b.Stats().Refused != 0 {
		t.Fatalf("refused: a %d, b %d", a.Stats().Refused, b.Stats().Refused)
	}
	none(t, sa.down, "a reported a peer down")
	none(t, sb.down, "b reported a peer down")
}

// A kept dialback speaks only for the address the dial it confirms went
// to. a dials x, a cookie holder; x, knowing that dial's nonces, dials a
// back with a Verify that asks to keep the connection: claiming its own
// address it is kept and its frame delivered as x's; claiming b's, a
// answers the Verify (the dial is a's) but keeps nothing, and nothing x
// sends there is delivered as b's.
func TestKeptDialbackOnlyForTheDialedAddress(t *testing.T) {
	a, sa := listenWith(t, Config{Cookie: "k"})
	b, _ := listenWith(t, Config{Cookie: "k"})
	for _, tc := range []struct {
		name string
		kept bool
	}{{"own address", true}, {"another node's", false}} {
		t.Run(tc.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			x := ln.Addr().String()
			claim := x
			if !tc.kept {
				claim = b.Addr()
			}
			verified := make(chan net.Conn, 1)
			errs := make(chan error, 1)
			go func() { // x: answers a's dial up to the Proof, then dials a back
				c, err := ln.Accept()
				if err != nil {
					errs <- err
					return
				}
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				r, w := bufio.NewReader(c), bufio.NewWriter(c)
				var h wire.Hello
				if err := readMsg(r, &h, maxHandshakeMsg); err != nil {
					errs <- err
					return
				}
				nl := newNonce()
				if err := sendMsg(w, &wire.Challenge{Node: "x", Nonce: nl, Incarnation: 7, TickTimeUs: 4_000_000}); err != nil {
					errs <- err
					return
				}
				var p wire.Proof
				if err := readMsg(r, &p, maxHandshakeMsg); err != nil {
					errs <- err
					return
				}
				v, err := net.Dial("tcp", a.Addr())
				if err != nil {
					errs <- err
					return
				}
				_ = v.SetDeadline(time.Now().Add(10 * time.Second))
				_, err = impostor(claim, "k").greet(bufio.NewReader(v), bufio.NewWriter(v), a.Addr(),
					&wire.Verify{DialerNonce: h.Nonce, ListenerNonce: nl, Keep: true})
				if err != nil {
					_ = v.Close()
					errs <- err
					return
				}
				verified <- v
			}()
			if err := a.Send(x, &wire.Frame{To: "for x"}); err != nil {
				t.Fatal(err)
			}
			var v net.Conn
			select {
			case v = <-verified:
			case err := <-errs:
				t.Fatalf("x's dialback: %v (a confirms its own dial either way)", err)
			case <-time.After(10 * time.Second):
				t.Fatal("x's dialback did not end within 10 s")
			}
			defer v.Close()
			sendRaw(t, v, &wire.Frame{To: "from " + claim})
			if !tc.kept {
				none(t, sa.frames, "a delivered a frame of a dialback claiming another node's address")
				_ = v.SetReadDeadline(time.Now().Add(10 * time.Second))
				if _, err := v.Read(make([]byte, 1)); err == nil {
					t.Fatal("a kept the dialback open")
				}
				return
			}
			if f := wait(t, sa.frames); f.To != "from "+x {
				t.Fatalf("a delivered %q", f.To)
			}
		})
	}
}
