package transport

import (
	"errors"
	"testing"

	"github.com/switchboard-go/switchboard/internal/wire"
)

func TestDisconnect(t *testing.T) {
	a, sa := listen(t)
	b, sb := listen(t)
	// Connections both ways.
	if err := a.Send(b.Addr(), &wire.Frame{To: "1"}); err != nil {
		t.Fatal(err)
	}
	if err := b.Send(a.Addr(), &wire.Frame{To: "2"}); err != nil {
		t.Fatal(err)
	}
	wait(t, sb.frames)
	wait(t, sa.frames)

	a.Disconnect(b.Addr())
	// Reported once, before Disconnect returned.
	select {
	case got := <-sa.down:
		if got != b.Addr() {
			t.Fatalf("reported %q down; want %q", got, b.Addr())
		}
	default:
		t.Fatal("Disconnect returned before reporting the peer down")
	}
	if err := wait(t, sa.why); !errors.Is(err, ErrDisconnected) {
		t.Fatalf("down because %v; want ErrDisconnected", err)
	}
	// b sees both of its connections to a break.
	for range 2 {
		if got := wait(t, sb.down); got != a.Addr() {
			t.Fatalf("b reported %q down; want %q", got, a.Addr())
		}
	}
	// New connections both ways.
	if err := a.Send(b.Addr(), &wire.Frame{To: "3"}); err != nil {
		t.Fatal(err)
	}
	if err := b.Send(a.Addr(), &wire.Frame{To: "4"}); err != nil {
		t.Fatal(err)
	}
	if f := wait(t, sb.frames); f.To != "3" {
		t.Fatalf("b got %q; want 3", f.To)
	}
	if f := wait(t, sa.frames); f.To != "4" {
		t.Fatalf("a got %q; want 4", f.To)
	}
	none(t, sa.down, "a reported a second peer down")
	if got := a.Stats().PeersDown; got != 1 {
		t.Fatalf("a's peers down = %d; want 1", got)
	}
}

func TestDisconnectUnknownPeerReportsOnce(t *testing.T) {
	a, sa := listen(t)
	a.Disconnect("127.0.0.1:1")
	if got := wait(t, sa.down); got != "127.0.0.1:1" {
		t.Fatalf("reported %q", got)
	}
	none(t, sa.down, "reported twice")
}

func TestDisconnectAfterCloseReportsNothing(t *testing.T) {
	a, sa := listen(t)
	_ = a.Close()
	a.Disconnect("127.0.0.1:1")
	none(t, sa.down, "a closed transport reported a peer")
}
