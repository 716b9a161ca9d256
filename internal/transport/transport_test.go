package transport

import (
	"encoding/binary"
	"net"
	"strconv"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/switchboard-go/switchboard/internal/wire"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type sink struct {
	frames chan *wire.Frame
	down   chan string
}

func listen(t *testing.T) (*Transport, *sink) {
	t.Helper()
	s := &sink{frames: make(chan *wire.Frame, 1000), down: make(chan string, 10)}
	tr, err := Listen(Config{
		Listen:   "127.0.0.1:0",
		Handler:  func(_ string, f *wire.Frame) { s.frames <- f },
		PeerDown: func(addr string) { s.down <- addr },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	return tr, s
}

func wait[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("timeout")
		panic("unreachable")
	}
}

func TestFramesArriveInOrder(t *testing.T) {
	a, _ := listen(t)
	b, sb := listen(t)
	for i := 0; i < 500; i++ {
		if err := a.Send(b.Addr(), &wire.Frame{To: strconv.Itoa(i)}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 500; i++ {
		if f := wait(t, sb.frames); f.To != strconv.Itoa(i) {
			t.Fatalf("frame %d has To %q", i, f.To)
		}
	}
}

func TestPeerDownBothWays(t *testing.T) {
	a, sa := listen(t)
	b, sb := listen(t)
	if err := a.Send(b.Addr(), &wire.Frame{To: "x"}); err != nil {
		t.Fatal(err)
	}
	wait(t, sb.frames)
	bAddr, aAddr := b.Addr(), a.Addr()
	_ = b.Close()
	if got := wait(t, sa.down); got != bAddr {
		t.Fatalf("a saw %q down; want %q", got, bAddr)
	}
	// b closed itself: it reports nothing about a.
	select {
	case got := <-sb.down:
		t.Fatalf("closing transport reported %q", got)
	case <-time.After(50 * time.Millisecond):
	}
	_ = aAddr
	// A peer that does not listen is reported down at once. (Not b's old
	// port: another test may listen there by now.)
	const nobody = "127.0.0.1:1"
	if err := a.Send(nobody, &wire.Frame{}); err != nil {
		t.Fatal(err)
	}
	if got := wait(t, sa.down); got != nobody {
		t.Fatalf("unreachable peer: got %q", got)
	}
}

func TestInboundCloseReportsPeer(t *testing.T) {
	a, _ := listen(t)
	b, sb := listen(t)
	if err := a.Send(b.Addr(), &wire.Frame{To: "x"}); err != nil {
		t.Fatal(err)
	}
	wait(t, sb.frames)
	_ = a.Close()
	if got := wait(t, sb.down); got != a.Addr() {
		t.Fatalf("b saw %q down; want %q", got, a.Addr())
	}
}

func TestBadInputIsCountedAndDropped(t *testing.T) {
	b, sb := listen(t)
	// Garbage instead of a Hello.
	c, err := net.Dial("tcp", b.Addr())
	if err != nil {
		t.Fatal(err)
	}
	_, _ = c.Write([]byte{0, 0, 0, 3, 0xff, 0xff, 0xff})
	buf := make([]byte, 1)
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(buf); err == nil {
		t.Fatal("connection with a bad hello stayed open")
	}
	_ = c.Close()
	// A valid hello, then a frame announcing 1 GiB.
	c, err = net.Dial("tcp", b.Addr())
	if err != nil {
		t.Fatal(err)
	}
	hello := []byte{0x08, 0x01, 0x12, 0x01, 'x'} // version 1, address "x"
	var hdr [4]byte
	binary.BigEndian.PutUint32(hdr[:], uint32(len(hello)))
	_, _ = c.Write(append(hdr[:], hello...))
	_, _ = c.Write([]byte{0x40, 0, 0, 0})
	if got := wait(t, sb.down); got != "x" {
		t.Fatalf("oversized frame: peer %q", got)
	}
	_ = c.Close()
	if got := b.Stats().BadFrames; got != 2 {
		t.Fatalf("bad frames = %d; want 2", got)
	}
	if len(sb.frames) != 0 {
		t.Fatal("a bad frame was delivered")
	}
}

func TestSendAfterCloseFails(t *testing.T) {
	a, _ := listen(t)
	_ = a.Close()
	if err := a.Send("127.0.0.1:1", &wire.Frame{}); err != ErrClosed {
		t.Fatalf("err = %v; want ErrClosed", err)
	}
}
