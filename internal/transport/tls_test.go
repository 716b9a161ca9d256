package transport

import (
	"crypto/tls"
	"errors"
	"testing"

	"github.com/switchboard-go/switchboard/internal/transport/tlstest"
	"github.com/switchboard-go/switchboard/internal/wire"
)

func TestTLSNodesOfOneCATalk(t *testing.T) {
	ca := tlstest.NewCA(t, "cluster")
	a, sa := listenWith(t, Config{TLS: ca.Config(t, "a"), Cookie: "s3cret"})
	b, sb := listenWith(t, Config{TLS: ca.Config(t, "b"), Cookie: "s3cret"})
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
}

// refusedBoth checks that a's frame to b was refused at the handshake:
// a reports b down with ErrHandshake, b logs and counts the refusal, and
// nothing was delivered. If the dialer cannot know (knows false: b closed
// the connection without a word, as a TLS listener does to a plain dialer
// and a plain one to a TLS dialer), a reports ErrHandshakeClosed and counts
// no refusal: from its side that is a peer stopping.
func refusedBoth(t *testing.T, a *Transport, sa *sink, b *Transport, sb *sink, knows bool) {
	t.Helper()
	if err := a.Send(b.Addr(), &wire.Frame{To: "intruder"}); err != nil {
		t.Fatal(err)
	}
	if got := wait(t, sa.down); got != b.Addr() {
		t.Fatalf("dialer reported %q down; want %q", got, b.Addr())
	}
	err := wait(t, sa.why)
	if !errors.Is(err, ErrHandshake) || errors.Is(err, ErrHandshakeClosed) == knows {
		t.Fatalf("down because %v; want ErrHandshake (closed without a word: %v)", err, !knows)
	}
	want := uint64(0)
	if knows {
		want = 1
	}
	if got := a.Stats().Refused; got != want {
		t.Fatalf("dialer refused = %d; want %d", got, want)
	}
	if !knows {
		none(t, sa.warns, "the dialer warned of a connection merely closed")
	}
	wait(t, sb.warns)
	if got := b.Stats().Refused; got != 1 {
		t.Fatalf("listener refused = %d; want 1", got)
	}
	none(t, sb.frames, "a refused dialer's frame was delivered")
	none(t, sb.down, "the listener reported a refused dialer down")
}

func TestTLSRefusesOtherCA(t *testing.T) {
	ca, other := tlstest.NewCA(t, "cluster"), tlstest.NewCA(t, "other")
	t.Run("dialer verifies the listener", func(t *testing.T) {
		b, sb := listenWith(t, Config{TLS: ca.Config(t, "b")})
		rogue, sr := listenWith(t, Config{TLS: other.Config(t, "rogue")})
		refusedBoth(t, rogue, sr, b, sb, true)
	})
	t.Run("listener verifies the dialer", func(t *testing.T) {
		b, sb := listenWith(t, Config{TLS: ca.Config(t, "b")})
		cfg := other.Config(t, "rogue")
		cfg.RootCAs = ca.Pool() // trusts b, but b does not trust it
		rogue, sr := listenWith(t, Config{TLS: cfg})
		refusedBoth(t, rogue, sr, b, sb, true)
	})
}

func TestTLSAndPlainDoNotMix(t *testing.T) {
	ca := tlstest.NewCA(t, "cluster")
	t.Run("plain dials TLS", func(t *testing.T) {
		b, sb := listenWith(t, Config{TLS: ca.Config(t, "b")})
		p, sp := listenWith(t, Config{})
		refusedBoth(t, p, sp, b, sb, false)
	})
	t.Run("TLS dials plain", func(t *testing.T) {
		b, sb := listenWith(t, Config{TLS: ca.Config(t, "b")})
		p, sp := listenWith(t, Config{})
		refusedBoth(t, b, sb, p, sp, false)
	})
}

func TestTLSCookieStillChecked(t *testing.T) {
	ca := tlstest.NewCA(t, "cluster")
	a, sa := listenWith(t, Config{TLS: ca.Config(t, "a"), Cookie: "one"})
	b, sb := listenWith(t, Config{TLS: ca.Config(t, "b"), Cookie: "two"})
	if err := a.Send(b.Addr(), &wire.Frame{To: "x"}); err != nil {
		t.Fatal(err)
	}
	if err := wait(t, sa.why); !errors.Is(err, ErrBadCookie) {
		t.Fatalf("down because %v; want ErrBadCookie", err)
	}
	wait(t, sb.warns)
	none(t, sb.frames, "a frame crossed a refused handshake")
}

func TestTLSConfigNeedsACertificate(t *testing.T) {
	_, err := Listen(Config{
		Listen:   "127.0.0.1:0",
		TLS:      &tls.Config{},
		Handler:  func(string, *wire.Frame) {},
		PeerDown: func(string, error) {},
	})
	if err == nil {
		t.Fatal("Listen accepted a TLS config without a certificate")
	}
}
