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
	for !idle(a, b.Addr()) {
		if time.Now().After(deadline) {
			t.Fatal("a's connection to b never idle")
		}
		time.Sleep(100 * time.Microsecond) // polling a state that has no event
	}

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
