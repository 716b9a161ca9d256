package transport

import (
	"bytes"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/internal/wire"
)

// connReader over real loopback TCP: frames of random sizes, written in
// random pieces with pauses and bursts, so that it moves between its small
// and its large buffer, arrive whole and in order through Peek, Discard and
// Read as the frame reader uses them; the end of the stream is io.EOF.
func TestConnReaderFramesWhole(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	var stream []byte
	var frames [][]byte
	for i := range 3000 {
		size := rng.IntN(40)
		switch i % 10 {
		case 3:
			size = rng.IntN(3000)
		case 7:
			size = rng.IntN(200000)
		}
		f := make([]byte, size)
		for j := range f {
			f[j] = byte(i + j)
		}
		frames = append(frames, f)
		stream = binary.BigEndian.AppendUint32(stream, uint32(size))
		stream = append(stream, f...)
	}
	const leftover = 7 // bytes the handshake's reader had buffered: the connReader starts with them
	go func() {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close()
		rng := rand.New(rand.NewPCG(3, 4))
		for rest := stream[leftover:]; len(rest) > 0; {
			n := min(len(rest), 1+rng.IntN(90000))
			if _, err := c.Write(rest[:n]); err != nil {
				t.Error(err)
				return
			}
			rest = rest[n:]
			if rng.IntN(4) == 0 {
				time.Sleep(time.Duration(rng.IntN(200)) * time.Microsecond) // the reader catches up: it shrinks
			}
		}
	}()
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(time.Minute))
	r := newConnReader(c, stream[:leftover])
	defer r.release()
	big, small := 0, 0
	for i, want := range frames {
		hdr, err := r.Peek(4)
		if err != nil {
			t.Fatalf("frame %d: peek: %v", i, err)
		}
		size := int(binary.BigEndian.Uint32(hdr))
		if n, err := r.Discard(4); n != 4 || err != nil {
			t.Fatalf("frame %d: discard: %d, %v", i, n, err)
		}
		got := make([]byte, size)
		if _, err := io.ReadFull(r, got); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("frame %d: %d bytes differ from the %d sent", i, len(got), len(want))
		}
		if r.big != nil {
			big++
		} else {
			small++
		}
	}
	if hdr, err := r.Peek(4); len(hdr) != 0 || err != io.EOF {
		t.Errorf("after the last frame: %v, %v; want io.EOF", hdr, err)
	}
	if big == 0 || small == 0 {
		t.Errorf("frames read with the large buffer: %d, with the small: %d; want both", big, small)
	}
}

// idleConnections connects n transports to one and sends one frame on each
// connection, then reports the heap they hold per connection, after GC.
func idleConnections(t *testing.T, n int) float64 {
	start := func(frames chan<- string) *Transport {
		tr, err := Listen(Config{
			Listen:   "127.0.0.1:0",
			Handler:  func(_ string, f *wire.Frame) { frames <- f.To },
			PeerDown: func(string, error) {}, // n of them at the end: a sink's channel would fill
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = tr.Close() })
		return tr
	}
	frames := make(chan string, n)
	b := start(frames)
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	before := ms.HeapAlloc
	for range n {
		if err := start(nil).Send(b.Addr(), &wire.Frame{To: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	for range n {
		wait(t, frames)
	}
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return float64(int64(ms.HeapAlloc)-int64(before)) / float64(n)
}

// An idle node-to-node connection (both ends: the dialer's peer and the
// listener's reader, and the dialing transport itself) holds at most
// 64 KiB of heap; it held 130 KiB with a 64 KiB read and a 64 KiB write
// buffer each.
func TestIdleConnectionMemory(t *testing.T) {
	if per := idleConnections(t, 40); per > 64<<10 {
		t.Errorf("%.0f bytes of heap per idle connection; want at most 64 KiB", per)
	} else {
		t.Logf("%.0f bytes of heap per idle connection", per)
	}
}
