package transport

import (
	"bufio"
	"context"
	"log/slog"
	"net"
	"strconv"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/switchboard-go/switchboard/internal/wire"
)

func TestMain(m *testing.M) {
	if runChildIfAsked() { // see process_test.go
		return
	}
	goleak.VerifyTestMain(m)
}

// sink collects what a transport reports: frames, peers down (and why),
// and its warnings.
type sink struct {
	frames chan *wire.Frame
	down   chan string
	why    chan error // one per down, in the same order
	warns  chan string
}

func listen(t *testing.T) (*Transport, *sink) {
	t.Helper()
	return listenWith(t, Config{})
}

// listenWith starts a transport on a free loopback port with cfg's
// security settings.
func listenWith(t *testing.T, cfg Config) (*Transport, *sink) {
	t.Helper()
	s := &sink{
		frames: make(chan *wire.Frame, 1000),
		down:   make(chan string, 10),
		why:    make(chan error, 10),
		warns:  make(chan string, 10),
	}
	cfg.Listen = "127.0.0.1:0"
	cfg.Handler = func(_ string, f *wire.Frame) { s.frames <- held(f) }
	cfg.PeerDown = func(addr string, err error) { s.down <- addr; s.why <- err }
	cfg.Logger = slog.New(warnings(s.warns))
	tr, err := Listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	return tr, s
}

// held is a copy of f that a handler may keep: the transport reuses f for
// the next frame (not what its fields point to).
func held(f *wire.Frame) *wire.Frame { return &wire.Frame{From: f.From, To: f.To, Body: f.Body} }

// warnings is a slog handler that sends the message of every warning to ch,
// dropping it if ch is full.
type warnings chan string

func (w warnings) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (w warnings) Handle(_ context.Context, r slog.Record) error {
	select {
	case w <- r.Message:
	default:
	}
	return nil
}
func (w warnings) WithAttrs([]slog.Attr) slog.Handler { return w }
func (w warnings) WithGroup(string) slog.Handler      { return w }

// none fails if ch holds a value now.
func none[T any](t *testing.T, ch <-chan T, what string) {
	t.Helper()
	select {
	case v := <-ch:
		t.Fatalf("%s: %v", what, v)
	default:
	}
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
	// a may see b down twice: its connection to b, and b's to it (b kept
	// its dialback, verify.go).
	got := wait(t, sa.down)
	if got == bAddr {
		got = wait(t, sa.down)
	}
	if got != nobody {
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
	// Garbage instead of a Hello: refused at the handshake.
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
	wait(t, sb.warns)
	// A valid handshake, then a frame announcing 1 GiB.
	x, _ := listen(t)
	c = rawHandshake(t, b.Addr(), x)
	_, _ = c.Write([]byte{0x40, 0, 0, 0})
	if got := wait(t, sb.down); got != x.Addr() {
		t.Fatalf("oversized frame: peer %q", got)
	}
	_ = c.Close()
	if got := b.Stats(); got.BadFrames != 1 || got.Refused != 1 {
		t.Fatalf("stats = %+v; want 1 bad frame and 1 refused", got)
	}
	if len(sb.frames) != 0 {
		t.Fatal("a bad frame was delivered")
	}
}

// rawHandshake dials addr and runs the dialer's handshake on a bare
// connection, as the transport d (which confirms the dial when addr asks).
func rawHandshake(t *testing.T, addr string, d *Transport) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := d.greet(bufio.NewReader(c), bufio.NewWriter(c), addr, nil); err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(time.Time{})
	return c
}

func TestSendAfterCloseFails(t *testing.T) {
	a, _ := listen(t)
	_ = a.Close()
	if err := a.Send("127.0.0.1:1", &wire.Frame{}); err != ErrClosed {
		t.Fatalf("err = %v; want ErrClosed", err)
	}
}
