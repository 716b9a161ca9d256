package transport

import (
	"bytes"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/internal/wire"
)

// Senders made ready together (callers woken by one read of their
// replies) queue their frames before the writer they woke takes the
// queue: one write carries them all. With one P, the writer woken by the
// first sender would otherwise run as soon as that sender ends, and write
// each frame alone.
func TestWriterTakesTheFramesOfSendersReadyBeforeIt(t *testing.T) {
	a, _ := listenWith(t, Config{directGap: time.Hour}) // every frame but the first after a pause goes to the writer
	b, sb := listen(t)
	if err := a.Send(b.Addr(), seqFrame("warm", 0, 16)); err != nil {
		t.Fatal(err)
	}
	wait(t, sb.frames)
	deadline := time.Now().Add(10 * time.Second)
	awaitIdle(t, a, b.Addr(), deadline)

	const senders = 50
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	before := a.writerWrites.Load()
	var wg sync.WaitGroup
	for i := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := a.Send(b.Addr(), seqFrame(strconv.Itoa(i), 0, 16)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for range senders {
		wait(t, sb.frames)
	}
	// The first frame may go out at once; the writer takes the others in
	// one write, or two if it was already on its way.
	if w := a.writerWrites.Load() - before; w > 2 {
		t.Fatalf("the writer wrote %d times for %d frames sent together", w, senders)
	}
}

// A reader corks before it handles the first frame of a burst, not after:
// what the handler of that frame sends is held with the rest, and the
// burst ends uncorked.
func TestBurstCorksFromItsFirstFrame(t *testing.T) {
	tr := &Transport{cfg: Config{MaxFrameSize: 1 << 20}}
	var all []byte
	const frames = 3
	for i := range uint64(frames) {
		b, err := marshalFrame(seqFrame("a", i, 16))
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	r := newConnReader(bytes.NewReader(all), nil)
	fr := tr.newFrameReader(nil, nil)
	ck := &cork{t: tr}
	for i := range frames {
		f := &wire.Frame{}
		if err := tr.read(r, f, &fr); err != nil {
			t.Fatal(err)
		}
		ck.before(r)
		if c := tr.corks.Load(); c != 1 {
			t.Fatalf("frame %d of a burst of %d handled with %d readers corked, want 1", i, frames, c)
		}
		ck.after()
	}
	if c := tr.corks.Load(); c != 0 {
		t.Fatalf("%d readers corked after the burst", c)
	}
}

// A reader lets the goroutines its burst made ready run before the burst
// ends (a process given the calls it read, say): what they send is held
// and written in the reader's flush, not after it, each frame on its own.
// With one P those goroutines would otherwise run only once the reader
// has read everything and waits.
func TestBurstEndsAfterTheGoroutinesItWoke(t *testing.T) {
	c, sc := listen(t)
	gate := make(chan struct{})
	release := sync.OnceFunc(func() { close(gate) })
	work := make(chan *wire.Frame, 1000)
	var b *Transport
	var first sync.Once
	b, err := Listen(Config{
		Listen: "127.0.0.1:0",
		Handler: func(_ string, f *wire.Frame) {
			first.Do(func() { <-gate })
			work <- held(f)
		},
		PeerDown:  func(string, error) {},
		directGap: time.Nanosecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	t.Cleanup(release)
	var worker sync.WaitGroup
	worker.Add(1)
	go func() { // the process the reader hands its frames to
		defer worker.Done()
		for f := range work {
			if err := b.Send(c.Addr(), f); err != nil {
				t.Error(err)
			}
		}
	}()
	t.Cleanup(worker.Wait)
	t.Cleanup(func() { close(work) })
	a, _ := listen(t)

	if err := b.Send(c.Addr(), seqFrame("b", 0, 16)); err != nil {
		t.Fatal(err)
	}
	wait(t, sc.frames)
	deadline := time.Now().Add(10 * time.Second)
	awaitIdle(t, b, c.Addr(), deadline)

	const frames = 200
	sendBurst(t, a, b.Addr(), frames, deadline)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	release()
	for i := range uint64(frames) {
		if seq := seqOf(t, wait(t, sc.frames)); seq != i {
			t.Fatalf("c got frame %d as number %d", seq, i)
		}
	}
	if h := b.heldOut.Load(); h < frames/2 {
		t.Fatalf("%d of the %d frames the woken goroutine sent were held and written by the reader", h, frames)
	}
}
