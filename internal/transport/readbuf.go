package transport

import (
	"io"
	"sync"
)

// byteSource is what the frame reader reads from: a connReader once the
// handshake is done, a bufio.Reader during it.
type byteSource interface {
	io.Reader
	Buffered() int
	Peek(n int) ([]byte, error)
	Discard(n int) (int, error)
}

// connReader is the buffered reader of an authenticated connection. It
// reads into readBufSize bytes only while the peer sends faster than the
// reader takes: a read that fills its small buffer makes the next use the
// large one, taken from bigReadBufs, and coolReads reads in a row that
// bring less than the small buffer's size give it back once it is empty.
// So an idle connection, which waits for its next frame (or tick) in a
// read, holds handshakeBufSize bytes instead of 64 KiB, and a busy one
// still reads many frames per system call.
type connReader struct {
	src   io.Reader
	small [handshakeBufSize]byte
	big   *[readBufSize]byte
	buf   []byte // small[:] or big[:]
	r, w  int    // buf[r:w] is buffered
	cool  int    // reads in a row that brought less than the small buffer's size
	err   error  // of the last read, returned once buf is empty
}

// coolReads is how many reads in a row of less than handshakeBufSize
// bytes make a connReader give its large buffer back: a busy connection
// whose reads come in small now and then keeps it.
const coolReads = 16

var bigReadBufs = sync.Pool{New: func() any { return new([readBufSize]byte) }}

// newConnReader reads from src, after the bytes of rest (what the
// handshake's reader had buffered beyond the handshake).
func newConnReader(src io.Reader, rest []byte) *connReader {
	c := &connReader{src: src, cool: coolReads}
	c.buf = c.small[:]
	if len(rest) > len(c.small) {
		c.grow()
	}
	c.w = copy(c.buf, rest)
	return c
}

func (c *connReader) grow() {
	if c.big == nil {
		c.big = bigReadBufs.Get().(*[readBufSize]byte)
	}
	n := copy(c.big[:], c.buf[c.r:c.w])
	c.buf, c.r, c.w = c.big[:], 0, n
}

// release gives the large buffer back; the reader must not be used after.
func (c *connReader) release() {
	if c.big != nil {
		bigReadBufs.Put(c.big)
		c.big = nil
	}
	c.buf, c.r, c.w = c.small[:], 0, 0
}

// Buffered is the number of bytes that can be read without a system call.
func (c *connReader) Buffered() int { return c.w - c.r }

// fill reads once, into the buffer chosen by how full the last read was,
// and needs room for n bytes in all (at most readBufSize).
func (c *connReader) fill(n int) {
	if c.r == c.w {
		c.r, c.w = 0, 0
		switch {
		case c.cool == 0 && c.big == nil:
			c.grow()
		case c.cool >= coolReads && c.big != nil:
			bigReadBufs.Put(c.big)
			c.big, c.buf = nil, c.small[:]
		}
	}
	if c.r+n > len(c.buf) { // make room: move what is buffered to the front, in the large buffer if need be
		if n > len(c.buf) {
			c.grow()
		} else {
			c.w = copy(c.buf, c.buf[c.r:c.w])
			c.r = 0
		}
	}
	m, err := c.src.Read(c.buf[c.w:])
	c.w += m
	if m >= len(c.small) {
		c.cool = 0
	} else {
		c.cool++
	}
	if err != nil {
		c.err = err
	}
}

func (c *connReader) takeErr() error {
	err := c.err
	c.err = nil
	return err
}

// Peek returns the next n bytes (n <= readBufSize) without taking them;
// fewer, with the error, if the source ends first.
func (c *connReader) Peek(n int) ([]byte, error) {
	for c.w-c.r < n && c.err == nil {
		c.fill(n)
	}
	if c.w-c.r < n {
		return c.buf[c.r:c.w], c.takeErr()
	}
	return c.buf[c.r : c.r+n], nil
}

// Discard skips the next n bytes.
func (c *connReader) Discard(n int) (int, error) {
	done := 0
	for done < n {
		if c.r == c.w {
			if c.err != nil {
				return done, c.takeErr()
			}
			c.fill(1)
			continue
		}
		k := min(n-done, c.w-c.r)
		c.r += k
		done += k
	}
	return done, nil
}

// Read reads into p what is buffered or, if nothing is, what one read of
// the source brings: straight into p if p is at least as large as the
// buffer.
func (c *connReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if c.r == c.w {
		if c.err != nil {
			return 0, c.takeErr()
		}
		if len(p) >= len(c.buf) {
			return c.src.Read(p)
		}
		c.fill(1)
		if c.r == c.w {
			return 0, c.takeErr()
		}
	}
	n := copy(p, c.buf[c.r:c.w])
	c.r += n
	return n, nil
}
