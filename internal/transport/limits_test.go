package transport

import (
	"bytes"
	"encoding/binary"
	"errors"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/anypb"

	"github.com/switchboard-go/switchboard/internal/wire"
)

// listenGated is listenWith, with a handler that holds the frames for
// which hold is true until the returned open is called (at cleanup at the
// latest): its reader then reads nothing more meanwhile. Frames beyond the
// sink's 1,000 are dropped.
func listenGated(t *testing.T, cfg Config, hold func(*wire.Frame) bool) (*Transport, *sink, func()) {
	t.Helper()
	s := &sink{
		frames: make(chan *wire.Frame, 1000),
		down:   make(chan string, 10),
		why:    make(chan error, 10),
		warns:  make(chan string, 10),
	}
	gate := make(chan struct{})
	open := sync.OnceFunc(func() { close(gate) })
	cfg.Listen = "127.0.0.1:0"
	cfg.Handler = func(_ string, f *wire.Frame) {
		if hold(f) {
			<-gate
		}
		select { // beyond the sink's room, frames are dropped
		case s.frames <- f:
		default:
		}
	}
	cfg.PeerDown = func(addr string, err error) { s.down <- addr; s.why <- err }
	cfg.Logger = slog.New(warnings(s.warns))
	tr, err := Listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	t.Cleanup(open) // first: its reader must not stay held
	return tr, s, open
}

// dialer is a transport with cookie whose address confirms the raw
// connections rawHandshake opens as it (the dialback).
func dialer(t *testing.T, cookie string) *Transport {
	t.Helper()
	x, _ := listenWith(t, Config{Cookie: cookie})
	return x
}

// waitFor polls cond every millisecond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10 s", what)
		}
	}
}

// closedSoon reports whether the server closes c within d, reading and
// discarding what it sends.
func closedSoon(c net.Conn, d time.Duration) bool {
	_ = c.SetReadDeadline(time.Now().Add(d))
	buf := make([]byte, 512)
	for {
		if _, err := c.Read(buf); err != nil {
			var ne net.Error
			return !(errors.As(err, &ne) && ne.Timeout())
		}
	}
}

func TestLogLimiter(t *testing.T) {
	l := newLogLimiter(2, 10*time.Second, 3)
	t0 := time.Unix(1000, 0)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	for i, step := range []struct {
		key        string
		at         time.Duration
		ok         bool
		suppressed uint64
	}{
		{"a", 0, true, 0},
		{"a", time.Second, true, 0},
		{"a", 2 * time.Second, false, 0}, // third in the window
		{"b", 2 * time.Second, true, 0},  // another host has its own
		{"a", 9 * time.Second, false, 0},
		{"a", 10 * time.Second, true, 2}, // a new window says what was kept out
		{"a", 11 * time.Second, true, 0},
		{"c", 11 * time.Second, true, 0},
		{"d", 11 * time.Second, true, 0}, // the map is full: d shares the others' allowance
		{"e", 11 * time.Second, true, 0},
		{"f", 11 * time.Second, false, 0},
		{"b", 30 * time.Second, true, 0},
		{"g", 30 * time.Second, true, 0}, // the ended windows were forgotten: g has its own
		{"g", 30 * time.Second, true, 0},
		{"g", 30 * time.Second, false, 0},
	} {
		ok, n := l.allow(step.key, at(step.at))
		if ok != step.ok || n != step.suppressed {
			t.Fatalf("step %d (%s at %v): allow = %v, %d suppressed; want %v, %d", i, step.key, step.at, ok, n, step.ok, step.suppressed)
		}
	}
}

func TestInflightIsFIFOAndBoundedByDeadline(t *testing.T) {
	b := newInflight(100)
	stop := make(chan struct{})
	far := time.Now().Add(time.Minute)
	if !b.acquire(60, far, stop, time.Hour, nil) || b.waits.Load() != 0 {
		t.Fatalf("first acquire: waits %d", b.waits.Load())
	}
	// A large waiter first, then a small one that would fit: the small one
	// waits behind it.
	got := make(chan int64, 2)
	go func() { b.acquire(80, far, stop, time.Hour, nil); got <- 80 }()
	waitFor(t, "the large waiter queues", func() bool { b.mu.Lock(); defer b.mu.Unlock(); return len(b.waiters) == 1 })
	go func() { b.acquire(10, far, stop, time.Hour, nil); got <- 10 }()
	waitFor(t, "the small waiter queues", func() bool { b.mu.Lock(); defer b.mu.Unlock(); return len(b.waiters) == 2 })
	if b.inUse() != 60 {
		t.Fatalf("in use %d: the small waiter passed the large one", b.inUse())
	}
	b.release(60) // both fit now, and both get room
	if a, c := wait(t, got), wait(t, got); a+c != 90 {
		t.Fatalf("got room: %d and %d", a, c)
	}
	if b.inUse() != 90 {
		t.Fatalf("in use %d; want 90", b.inUse())
	}
	// No room before the deadline: not granted, nothing taken.
	start := time.Now()
	if b.acquire(20, time.Now().Add(50*time.Millisecond), stop, time.Hour, nil) {
		t.Fatal("granted past the deadline")
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Fatalf("gave up after %v, before its deadline", d)
	}
	// Stop ends a wait.
	go func() { time.Sleep(10 * time.Millisecond); close(stop) }()
	if b.acquire(20, far, stop, time.Hour, nil) {
		t.Fatal("granted after stop")
	}
	b.release(90)
	if b.inUse() != 0 || len(b.waiters) != 0 || b.waits.Load() != 4 {
		t.Fatalf("in use %d, %d waiters, %d waits; want none, none and 4", b.inUse(), len(b.waiters), b.waits.Load())
	}
}

// Connections beyond MaxPendingConns are closed at once and counted;
// those in their handshake are cut at DialTimeout; an honest peer then
// connects.
func TestPendingConnectionsAreCapped(t *testing.T) {
	b, sb := listenWith(t, Config{Cookie: "c", DialTimeout: 500 * time.Millisecond, Limits: Limits{MaxPendingConns: 3}})
	var idle []net.Conn
	for range 3 {
		c, err := net.Dial("tcp", b.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		idle = append(idle, c)
	}
	waitFor(t, "three pending connections", func() bool { return b.Stats().PendingConns == 3 })
	c, err := net.Dial("tcp", b.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !closedSoon(c, 5*time.Second) {
		t.Fatal("the fourth connection stayed open")
	}
	if got := b.Stats().PendingRefused; got != 1 {
		t.Fatalf("PendingRefused = %d; want 1", got)
	}
	if msg := wait(t, sb.warns); msg != "connection refused" {
		t.Fatalf("warned %q", msg)
	}
	// The idle ones are cut at the handshake deadline, as refused.
	start := time.Now()
	for _, c := range idle {
		if !closedSoon(c, 10*time.Second) {
			t.Fatal("an idle connection outlived the handshake deadline")
		}
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("idle connections cut after %v; want about 500 ms", d)
	}
	waitFor(t, "no pending connection", func() bool { return b.Stats().PendingConns == 0 })
	a, _ := listenWith(t, Config{Cookie: "c"})
	if err := a.Send(b.Addr(), &wire.Frame{To: "x"}); err != nil {
		t.Fatal(err)
	}
	if f := wait(t, sb.frames); f.To != "x" {
		t.Fatalf("got %q", f.To)
	}
	s := b.Stats()
	if s.Refused != 3 || s.RefusalsLogged+s.RefusalsSuppressed != 4 {
		t.Fatalf("stats %+v; want 3 refused at the handshake, 4 refusals logged or suppressed", s)
	}
}

// A flood of refusals from one host logs a few lines; every one is
// counted.
func TestRefusalLogIsRateLimited(t *testing.T) {
	b, sb := listen(t)
	const n = 40
	for range n {
		c, err := net.Dial("tcp", b.Addr())
		if err != nil {
			t.Fatal(err)
		}
		_, _ = c.Write([]byte{0, 0, 0, 3, 0xff, 0xff, 0xff}) // not a Hello
		closedSoon(c, 5*time.Second)
		_ = c.Close()
	}
	waitFor(t, "all refusals counted", func() bool { return b.Stats().Refused == n })
	s := b.Stats()
	if s.RefusalsLogged != refusalBurst || s.RefusalsSuppressed != n-refusalBurst {
		t.Fatalf("logged %d, suppressed %d; want %d and %d", s.RefusalsLogged, s.RefusalsSuppressed, refusalBurst, n-refusalBurst)
	}
	if len(sb.warns) != refusalBurst {
		t.Fatalf("%d warnings; want %d", len(sb.warns), refusalBurst)
	}
}

// frameHeader is the length prefix of a frame of size bytes.
func frameHeader(size int) []byte {
	var h [4]byte
	binary.BigEndian.PutUint32(h[:], uint32(size))
	return h[:]
}

// A peer that sends a frame's length and then a trickle is cut at
// FrameTimeout from the length prefix, however steady the trickle.
func TestSlowFrameIsCut(t *testing.T) {
	const timeout = 300 * time.Millisecond
	b, sb := listenWith(t, Config{Cookie: "c", Limits: Limits{FrameTimeout: timeout}})
	x := dialer(t, "c")
	c := rawHandshake(t, b.Addr(), x)
	start := time.Now()
	if _, err := c.Write(frameHeader(1000)); err != nil {
		t.Fatal(err)
	}
	cut := make(chan time.Duration, 1)
	go func() {
		closedSoon(c, 10*time.Second)
		cut <- time.Since(start)
	}()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var took time.Duration
trickle:
	for {
		select {
		case took = <-cut:
			break trickle
		case <-tick.C:
			_, _ = c.Write([]byte{0})
		}
	}
	if took < timeout || took > timeout+5*time.Second {
		t.Fatalf("cut after %v; want %v", took, timeout)
	}
	t.Logf("cut after %v (FrameTimeout %v)", took, timeout)
	if got := wait(t, sb.down); got != x.Addr() {
		t.Fatalf("down %q", got)
	}
	if err := wait(t, sb.why); !errors.Is(err, ErrFrameTimeout) {
		t.Fatalf("down because %v; want ErrFrameTimeout", err)
	}
	if s := b.Stats(); s.SlowFrames != 1 || s.BadFrames != 0 {
		t.Fatalf("stats %+v; want 1 slow frame, no bad one", s)
	}
}

// bigFrame is an encoded info frame with a payload of size bytes, length
// prefix included.
func bigFrame(t *testing.T, to string, size int) []byte {
	t.Helper()
	f := &wire.Frame{From: &wire.Pid{Address: "raw", Id: "1"}, To: to,
		Body: &wire.Frame_Info{Info: &wire.Payload{Payload: &anypb.Any{TypeUrl: "t", Value: bytes.Repeat([]byte{7}, size)}}}}
	b, err := marshalFrame(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Large frames share MaxInflightBytes: one that finds no room waits, and
// is read once the other is handled; one that gets no room within
// FrameTimeout closes its connection, as does a stalled one that holds
// room.
func TestInflightBytesAreShared(t *testing.T) {
	const size = 600 << 10
	// b's handler holds the first frame: it keeps its room meanwhile.
	b, sb, unblock := listenGated(t, Config{Cookie: "c", MaxFrameSize: 1 << 20,
		Limits: Limits{MaxInflightBytes: 1 << 20, FrameTimeout: 10 * time.Second}},
		func(f *wire.Frame) bool { return f.To == "hold" })
	c1, c2 := rawHandshake(t, b.Addr(), dialer(t, "c")), rawHandshake(t, b.Addr(), dialer(t, "c"))
	if _, err := c1.Write(bigFrame(t, "hold", size)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the first frame takes its room", func() bool { return b.Stats().InflightBytes > size })
	go func() { _, _ = c2.Write(bigFrame(t, "second", size)) }()
	waitFor(t, "the second frame waits", func() bool { return b.Stats().InflightWaits == 1 })
	unblock()
	for _, want := range []string{"hold", "second"} {
		if f := wait(t, sb.frames); f.To != want {
			t.Fatalf("got %q; want %q", f.To, want)
		}
	}
	waitFor(t, "the room is given back", func() bool { return b.Stats().InflightBytes == 0 })
}

func TestNoRoomWithinFrameTimeoutCloses(t *testing.T) {
	const size, timeout = 600 << 10, 300 * time.Millisecond
	b, sb := listenWith(t, Config{Cookie: "c", MaxFrameSize: 1 << 20,
		Limits: Limits{MaxInflightBytes: 1 << 20, FrameTimeout: timeout}})
	c1, c2 := rawHandshake(t, b.Addr(), dialer(t, "c")), rawHandshake(t, b.Addr(), dialer(t, "c"))
	frame := bigFrame(t, "x", size)
	if _, err := c1.Write(frame[:1000]); err != nil { // holds room, then stalls
		t.Fatal(err)
	}
	waitFor(t, "the first frame takes its room", func() bool { return b.Stats().InflightBytes > 0 })
	if _, err := c2.Write(frame[:1000]); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := wait(t, sb.why); !errors.Is(err, ErrFrameTimeout) {
			t.Fatalf("down because %v; want ErrFrameTimeout", err)
		}
	}
	s := b.Stats()
	if s.SlowFrames != 2 || s.InflightWaits != 1 || s.InflightBytes != 0 {
		t.Fatalf("stats %+v; want 2 slow frames, 1 wait, no room held", s)
	}
}

// Data frames for a peer that does not read fill its queue to
// MaxPeerQueueBytes and are then refused whole with ErrOverloaded;
// signals still go; once the peer reads, data goes again.
func TestPeerQueueIsBounded(t *testing.T) {
	const bound = 1 << 20
	a, _ := listenWith(t, Config{Limits: Limits{MaxPeerQueueBytes: bound}})
	// A peer whose reader is held in its handler from the first frame on:
	// it reads nothing more (and is slow to call a's connection silent).
	b, _, resume := listenGated(t, Config{TickTime: time.Minute}, func(*wire.Frame) bool { return true })
	addr := b.Addr()
	payload := bytes.Repeat([]byte{1}, 1000)
	info := func() *wire.Frame {
		return &wire.Frame{To: "x", Body: &wire.Frame_Info{Info: &wire.Payload{Payload: &anypb.Any{TypeUrl: "t", Value: payload}}}}
	}
	var err error
	sent := 0
	for start := time.Now(); err == nil; sent++ {
		if time.Since(start) > 30*time.Second {
			t.Fatalf("no ErrOverloaded after %d frames in 30 s", sent)
		}
		err = a.Send(addr, info())
	}
	if !errors.Is(err, ErrOverloaded) {
		t.Fatalf("send = %v; want ErrOverloaded", err)
	}
	s := a.Stats()
	t.Logf("%d frames accepted (the socket took some), then %v; queued %d", sent-1, err, s.QueuedBytes)
	if s.QueuedBytes > bound { // (the socket may have taken more since)
		t.Fatalf("queued %d bytes; want at most %d", s.QueuedBytes, bound)
	}
	if s.Overloaded != 1 {
		t.Fatalf("Overloaded = %d; want 1", s.Overloaded)
	}
	if err := a.Send(addr, &wire.Frame{To: "x", Body: &wire.Frame_Exit{Exit: &wire.Exit{}}}); err != nil {
		t.Fatalf("a signal to a full queue: %v", err)
	}
	resume()
	waitFor(t, "data goes again", func() bool { return a.Send(addr, info()) == nil })
	waitFor(t, "the queue drains", func() bool { return a.Stats().QueuedBytes == 0 })
}

// A reply that carries only an error has a sixteenth of MaxPeerQueueBytes
// beyond the bound, so that a node can tell a caller whose reply did not
// fit: with the queue full to the byte for small data frames, a reply with
// a value is refused and one with an error is queued, until the sixteenth
// is full too.
func TestErrorRepliesHaveRoomBeyondTheBound(t *testing.T) {
	const bound = 256 << 10
	a, _ := listenWith(t, Config{Limits: Limits{MaxPeerQueueBytes: bound}})
	b, _, _ := listenGated(t, Config{TickTime: time.Minute}, func(*wire.Frame) bool { return true })
	addr := b.Addr()
	fill := func(size int) {
		f := &wire.Frame{To: "x", Body: &wire.Frame_Info{Info: &wire.Payload{Payload: &anypb.Any{TypeUrl: "t", Value: make([]byte, size)}}}}
		for start := time.Now(); a.Send(addr, f) == nil; {
			if time.Since(start) > 30*time.Second {
				t.Fatalf("no ErrOverloaded in 30 s")
			}
		}
	}
	fill(1000)
	fill(1) // now no frame larger than a few bytes fits
	value := &wire.Frame{Body: &wire.Frame_Reply{Reply: &wire.Reply{Ref: 1, Payload: &anypb.Any{TypeUrl: "t"}}}}
	if err := a.Send(addr, value); !errors.Is(err, ErrOverloaded) {
		t.Fatalf("a reply with a value to a full queue: %v; want ErrOverloaded", err)
	}
	text := "actor: node overloaded: the reply did not fit the queue to its node"
	failed := &wire.Frame{Body: &wire.Frame_Reply{Reply: &wire.Reply{Ref: 1, Error: &wire.Error{Code: wire.Code_CODE_OVERLOADED, Text: text}}}}
	errs := 0
	var err error
	for ; err == nil; errs++ {
		if errs > bound {
			t.Fatal("error replies are not bounded")
		}
		err = a.Send(addr, failed)
	}
	errs--
	if !errors.Is(err, ErrOverloaded) || errs == 0 {
		t.Fatalf("%d error replies queued, then %v; want some, then ErrOverloaded", errs, err)
	}
	q := a.Stats().QueuedBytes
	t.Logf("%d error replies queued beyond the bound; queued %d bytes", errs, q)
	if q > bound+bound/16 {
		t.Fatalf("queued %d bytes; want at most %d", q, bound+bound/16)
	}
}

// A reader waiting for room under MaxInflightBytes reads nothing, but its
// peer is not silent: the watchdog (tick.go) does not cut it. Here one
// peer trickles a large frame, holding room, for many tick times; another
// peer's frame waits meanwhile, and is read once the first lets go.
func TestWaitingForRoomIsNotSilence(t *testing.T) {
	const size, tick, hold = 600 << 10, 200 * time.Millisecond, 1500 * time.Millisecond
	b, sb := listenWith(t, Config{Cookie: "c", MaxFrameSize: 1 << 20, TickTime: tick,
		Limits: Limits{MaxInflightBytes: 1 << 20, FrameTimeout: time.Minute}})
	c1, c2 := rawHandshake(t, b.Addr(), dialer(t, "c")), rawHandshake(t, b.Addr(), dialer(t, "c"))
	frame := bigFrame(t, "second", size)
	if _, err := c1.Write(frame[:1000]); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the first frame takes its room", func() bool { return b.Stats().InflightBytes > 0 })
	go func() { _, _ = c2.Write(frame) }()
	waitFor(t, "the second frame waits", func() bool { return b.Stats().InflightWaits == 1 })
	trickle := time.NewTicker(tick / 4) // c1 is alive
	defer trickle.Stop()
	for end := time.After(hold); ; {
		select {
		case <-trickle.C:
			_, _ = c1.Write([]byte{0})
			continue
		case <-end:
		}
		break
	}
	_ = c1.Close() // lets go of its room
	if f := wait(t, sb.frames); f.To != "second" {
		t.Fatalf("got %q", f.To)
	}
	if s := b.Stats(); s.TimedOut != 0 {
		t.Fatalf("stats %+v: a connection waiting for room was cut as silent", s)
	}
}
