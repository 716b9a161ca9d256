package transport

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"time"

	"google.golang.org/protobuf/proto"
)

// frameReader is the reading state of one authenticated connection: the
// buffer its frames are read into (reused: the decoders copy what they
// keep), and the bytes of MaxInflightBytes its last frame holds until the
// next is read, so that the budget covers a frame while it is handled too.
type frameReader struct {
	t    *Transport
	c    net.Conn
	live *live // c's liveness: a wait for room is not the peer's silence
	keep []byte
	held int64
	size int // the last frame's length, prefix excluded
}

// newFrameReader starts reading frames from c, whose liveness is l; call
// done when the connection ends.
func (t *Transport) newFrameReader(c net.Conn, l *live) frameReader {
	return frameReader{t: t, c: c, live: l}
}

// done gives back what the last frame held.
func (fr *frameReader) done() {
	if fr.held > 0 {
		fr.t.inflight.release(fr.held)
		fr.held = 0
	}
}

// next reads one frame into m. A frame whose bytes are not all buffered
// gets a read deadline of FrameTimeout from its length prefix, and one
// larger than the read buffer takes its cost (inflightCost) from the
// node's MaxInflightBytes first, waiting for room until that deadline. Errors are
// counted here: too large or undecodable in BadFrames, too slow in
// SlowFrames. The deadline is cleared after the frame; a deadline between
// frames (the liveness ticks') is set before each length prefix is read.
func (fr *frameReader) next(r *bufio.Reader, m proto.Message) error {
	fr.done()
	t := fr.t
	size, err := readHeader(r, t.cfg.MaxFrameSize)
	fr.size = size
	if err != nil {
		if errors.Is(err, ErrFrameTooLarge) {
			t.badFrames.Add(1)
		}
		return err
	}
	if r.Buffered() < size { // the rest is on its way: bound the wait for it
		deadline := time.Now().Add(t.cfg.FrameTimeout)
		_ = fr.c.SetReadDeadline(deadline)
		defer func() { _ = fr.c.SetReadDeadline(time.Time{}) }()
		if size > readBufSize {
			cost := int64(inflightCost(size))
			// While this reader waits, it reads nothing: it tells the
			// watchdog that the connection is not silent (tick.go).
			touch := func() { fr.live.reads.Add(1) }
			if !t.inflight.acquire(cost, deadline, t.stop, t.tickInterval(), touch) {
				t.slowFrames.Add(1)
				return fmt.Errorf("%w: no room for a frame of %d bytes under MaxInflightBytes (%d)", ErrFrameTimeout, size, t.cfg.MaxInflightBytes)
			}
			fr.held = cost
		}
	}
	err = readBody(r, m, size, &fr.keep)
	switch {
	case err == nil:
	case errors.Is(err, os.ErrDeadlineExceeded):
		t.slowFrames.Add(1)
		err = fmt.Errorf("%w: %d bytes within %v: %w", ErrFrameTimeout, size, t.cfg.FrameTimeout, err)
	case errors.Is(err, errUndecodable):
		t.badFrames.Add(1)
	}
	if err != nil {
		fr.done()
	}
	return err
}

// authenticated returns the reader of a connection whose handshake is
// done, reading from c: the 64 KiB one, which takes over what the
// handshake's small reader had buffered beyond the handshake (nothing,
// from an honest dialer, which waits for the Welcome).
func authenticated(small *bufio.Reader, c io.Reader) *bufio.Reader {
	n := small.Buffered()
	if n == 0 {
		return bufio.NewReaderSize(c, readBufSize)
	}
	rest, _ := small.Peek(n)
	return bufio.NewReaderSize(io.MultiReader(bytes.NewReader(slices.Clone(rest)), c), readBufSize)
}
