package transport

import (
	"bytes"
	"encoding/binary"
	"strconv"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/anypb"

	"github.com/switchboard-go/switchboard/internal/wire"
)

// seqFrame is frame number seq of sender, padded to size bytes.
func seqFrame(sender string, seq uint64, size int) *wire.Frame {
	v := make([]byte, max(size, 8))
	binary.BigEndian.PutUint64(v, seq)
	v[len(v)-1] = byte(seq)
	return &wire.Frame{To: sender, Body: &wire.Frame_Info{Info: &wire.Payload{Payload: &anypb.Any{TypeUrl: "t", Value: v}}}}
}

func seqOf(t *testing.T, f *wire.Frame) uint64 {
	t.Helper()
	v := f.GetInfo().GetPayload().GetValue()
	if len(v) < 8 {
		t.Fatalf("frame of %d bytes", len(v))
	}
	seq := binary.BigEndian.Uint64(v)
	if v[len(v)-1] != byte(seq) {
		t.Fatalf("frame %d of sender %s: torn (last byte %d)", seq, f.GetTo(), v[len(v)-1])
	}
	return seq
}

// Senders on many goroutines at once, some frames written by their sender
// and some batched by the writer: each sender's frames arrive whole and in
// its order.
func TestConcurrentSendersKeepTheirOrder(t *testing.T) {
	a, _ := listenWith(t, Config{directGap: time.Nanosecond})
	b, sb := listen(t)
	// One frame at a time until the sender writes one itself: the
	// connection is up and idle.
	deadline := time.Now().Add(10 * time.Second)
	for i := uint64(0); a.directOut.Load() == 0; i++ {
		if time.Now().After(deadline) {
			t.Fatal("no frame was written by its sender")
		}
		if err := a.Send(b.Addr(), seqFrame("w", i, 16)); err != nil {
			t.Fatal(err)
		}
		if seq := seqOf(t, wait(t, sb.frames)); seq != i {
			t.Fatalf("frame %d arrived as %d", seq, i)
		}
	}
	out := a.Stats().FramesOut
	const senders, each = 8, 500
	var wg sync.WaitGroup
	for s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range uint64(each) {
				size := 16
				if i%50 == 0 {
					size = 200 << 10
				}
				if err := a.Send(b.Addr(), seqFrame(strconv.Itoa(s), i, size)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	next := map[string]uint64{}
	for range senders * each {
		f := wait(t, sb.frames)
		if seq := seqOf(t, f); seq != next[f.GetTo()] {
			t.Fatalf("sender %s: frame %d after %d", f.GetTo(), seq, next[f.GetTo()])
		}
		next[f.GetTo()]++
	}
	wg.Wait()
	if got := a.Stats().FramesOut - out; got != senders*each {
		t.Fatalf("FramesOut %d, want %d", got, senders*each)
	}
}

// awaitIdle waits until a's connection to addr is idle, failing at
// deadline.
func awaitIdle(t *testing.T, a *Transport, addr string, deadline time.Time) {
	t.Helper()
	for !idle(a, addr) {
		if time.Now().After(deadline) {
			t.Fatalf("the connection to %s never idle", addr)
		}
		time.Sleep(100 * time.Microsecond) // polling a state that has no event
	}
}

// sendBurst sends frames numbered frames from a to addr and waits, until
// deadline, for a to have written them all (a starts with none written).
func sendBurst(t *testing.T, a *Transport, addr string, frames int, deadline time.Time) {
	t.Helper()
	for i := range uint64(frames) {
		if err := a.Send(addr, seqFrame("a", i, 16)); err != nil {
			t.Fatal(err)
		}
	}
	for a.Stats().FramesOut < uint64(frames) {
		if time.Now().After(deadline) {
			t.Fatalf("a wrote %d frames of %d", a.Stats().FramesOut, frames)
		}
		time.Sleep(100 * time.Microsecond) // polling a counter that has no event
	}
}

// idle reports whether a's connection to addr is up with nothing queued
// and nothing being written.
func idle(a *Transport, addr string) bool {
	a.mu.Lock()
	p := a.peers[addr]
	a.mu.Unlock()
	if p == nil {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.direct != nil && !p.busy && len(p.queue) == 0
}

// A receiver that stops reading fills the sockets: the sender's direct
// write takes part of a frame or none, the rest waits for the writer, and
// nothing is lost, torn or reordered once the receiver reads again. Send
// never blocks meanwhile.
func TestFullSocketLeavesTheRestToTheWriter(t *testing.T) {
	a, _ := listenWith(t, Config{directGap: time.Nanosecond})
	gate := make(chan struct{})
	got := make(chan *wire.Frame, 100)
	var hold sync.Once
	b, err := Listen(Config{
		Listen: "127.0.0.1:0",
		Handler: func(_ string, f *wire.Frame) {
			hold.Do(func() { <-gate })
			got <- held(f)
		},
		PeerDown: func(string, error) {},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	release := sync.OnceFunc(func() { close(gate) })
	t.Cleanup(release) // runs before b closes: its reader must not stay held

	// Frames of 1 MiB, each sent once the previous one left the queue, so
	// that each is written by its sender, until the sockets (at most 4 +
	// 32 MiB here) are full and one is cut short.
	const size = 1 << 20
	deadline := time.Now().Add(20 * time.Second)
	var sent uint64
	for a.partial.Load() == 0 {
		for !idle(a, b.Addr()) && sent > 0 {
			if time.Now().After(deadline) {
				t.Fatalf("the connection stayed busy after %d frames", sent)
			}
			time.Sleep(100 * time.Microsecond) // polling a state that has no event
		}
		if sent > 100 {
			t.Fatalf("%d MiB sent and no write was cut short", sent)
		}
		if err := a.Send(b.Addr(), seqFrame("s", sent, size)); err != nil {
			t.Fatal(err)
		}
		sent++
	}
	cut, before := sent, a.directOut.Load()
	for range 3 { // these queue behind the rest of the cut frame
		if err := a.Send(b.Addr(), seqFrame("s", sent, size)); err != nil {
			t.Fatal(err)
		}
		sent++
	}
	release()
	for i := range sent {
		f := wait(t, got)
		if seq := seqOf(t, f); seq != i {
			t.Fatalf("frame %d arrived as number %d", seq, i)
		}
		if v := f.GetInfo().GetPayload().GetValue(); len(v) != size || !bytes.Equal(v[8:64], make([]byte, 56)) {
			t.Fatalf("frame %d: %d bytes", i, len(v))
		}
	}
	// Up to the cut, every frame but the cut one was written by its sender,
	// except the first if it went out before the connection was up (it may
	// not have: the dial can win the race). The rest of the cut one was
	// written by the writer (it arrived whole, above). The three behind it
	// queue while that rest is queued; the kernel may take the rest at once
	// (loopback buffers grow), so one of them may still go directly.
	if int(before) < int(cut)-2 || before >= cut {
		t.Fatalf("%d of the %d frames up to the cut written by their sender, want %d or %d", before, cut, cut-2, cut-1)
	}
	if d := a.directOut.Load(); d >= sent {
		t.Fatalf("%d of %d frames written by their sender, including the cut one", d, sent)
	}
}

// A reader with a burst of frames buffered corks: what its handler sends
// meanwhile is held and written by the reader itself, in a few writes
// (one per maxCorked frames and one at the end of the burst), in order.
func TestBurstIsForwardedInFewWrites(t *testing.T) {
	c, sc := listen(t)
	gate := make(chan struct{})
	release := sync.OnceFunc(func() { close(gate) })
	var b *Transport
	var first sync.Once
	b, err := Listen(Config{
		Listen: "127.0.0.1:0",
		Handler: func(_ string, f *wire.Frame) {
			first.Do(func() { <-gate })
			if err := b.Send(c.Addr(), f); err != nil {
				t.Error(err)
			}
		},
		PeerDown:  func(string, error) {},
		directGap: time.Nanosecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	t.Cleanup(release)
	a, _ := listen(t)

	// b's connection to c up and idle first.
	if err := b.Send(c.Addr(), seqFrame("b", 0, 16)); err != nil {
		t.Fatal(err)
	}
	wait(t, sc.frames)
	deadline := time.Now().Add(10 * time.Second)
	awaitIdle(t, b, c.Addr(), deadline)

	// a sends 200 frames to b while b's reader is held at the first, so
	// that the other 199 wait in b's socket: one burst.
	const frames = 200
	sendBurst(t, a, b.Addr(), frames, deadline)
	release()
	for i := range uint64(frames) {
		if seq := seqOf(t, wait(t, sc.frames)); seq != i {
			t.Fatalf("c got frame %d as number %d", seq, i)
		}
	}
	t.Logf("held %d flushes %d", b.heldOut.Load(), b.flushes.Load())
	if held, fl := b.heldOut.Load(), b.flushes.Load(); held < frames/2 || fl < frames/2/maxCorked || fl > frames/4 {
		t.Fatalf("b's reader wrote %d frames in %d flushes; want most of %d in about %d", held, fl, frames, frames/maxCorked+1)
	}
	if b.corks.Load() != 0 {
		t.Fatalf("%d readers still corked", b.corks.Load())
	}
}

// Readers of several connections end their bursts at once: two flushes of
// held frames run together while senders keep holding frames. Every frame
// arrives, in its sender's order, and nothing is left noted.
func TestConcurrentFlushesOfHeldFrames(t *testing.T) {
	a, _ := listenWith(t, Config{directGap: time.Nanosecond})
	const peers, each = 3, 2000
	var bs []*Transport
	var sinks []*sink
	for range peers {
		b, sb := listen(t)
		bs, sinks = append(bs, b), append(sinks, sb)
		if err := a.Send(b.Addr(), seqFrame("warm", 0, 8)); err != nil {
			t.Fatal(err)
		}
		wait(t, sb.frames)
	}
	a.corks.Add(1) // as a reader in a burst: what is sent is held
	stop := make(chan struct{})
	var flushers sync.WaitGroup
	for range 2 {
		flushers.Add(1)
		go func() {
			defer flushers.Done()
			for {
				select {
				case <-stop:
					return
				default:
					a.flushHeld()
				}
			}
		}()
	}
	var senders sync.WaitGroup
	for i, b := range bs {
		senders.Add(1)
		go func() {
			defer senders.Done()
			for j := range uint64(each) {
				if err := a.Send(b.Addr(), seqFrame(strconv.Itoa(i), j, 8)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	senders.Wait()
	close(stop)
	flushers.Wait()
	a.corks.Add(-1)
	a.flushHeld()
	for i, sb := range sinks {
		for j := range uint64(each) {
			if seq := seqOf(t, wait(t, sb.frames)); seq != j {
				t.Fatalf("peer %d got frame %d as number %d", i, seq, j)
			}
		}
	}
	if a.heldOut.Load() == 0 {
		t.Fatal("no frame was held and written by a flush")
	}
	a.heldMu.Lock()
	defer a.heldMu.Unlock()
	if len(a.held) != 0 {
		t.Fatalf("%d peers still noted", len(a.held))
	}
}
