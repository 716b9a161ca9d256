package transport

import (
	"encoding/binary"
	"runtime"
)

// Corking: while a reader goroutine has more whole frames buffered, the
// frames that this node sends meanwhile (routed on that goroutine, or sent
// by processes it woke) are held in their peers' queues instead of being
// written one by one or handed to the writers; when the burst ends, or
// every maxCorked frames, the reader writes each peer's held frames itself,
// in one non-blocking write, and leaves what the socket does not take to
// the peer's writer. Before the burst's last write the reader yields once,
// so that the goroutines its frames made ready (callers answered, a
// process given calls) send first, held with the rest. Under load that makes one write of many frames
// without a wake-up; with one frame at a time nothing is held.

// maxCorked bounds how many frames a reader handles before it writes what
// was held, so that a long burst does not hold other frames for long.
const maxCorked = 32

// maxHeldWrite bounds the bytes a reader writes for a peer at once; more
// goes to the peer's writer.
const maxHeldWrite = 256 << 10

// cork is one reader's part in corking.
type cork struct {
	t      *Transport
	on     bool
	more   bool // r held another whole frame when the one being handled was read
	frames int
}

// before is called once a frame has been read from r and before it is
// handled: it corks if r holds another whole frame, so that what the
// handler sends is held from the burst's first frame on, and writes the
// held frames once the burst has gone on for maxCorked frames.
func (c *cork) before(r byteSource) {
	c.more = wholeFrame(r)
	switch {
	case c.more && !c.on:
		c.on, c.frames = true, 0
		c.t.corks.Add(1)
	case c.more:
		if c.frames++; c.frames >= maxCorked {
			c.frames = 0
			c.t.flushHeld()
		}
	}
}

// after is called once the frame has been handled: the burst ends with
// the last whole frame r held, and what was held is written.
func (c *cork) after() {
	if !c.more {
		c.end()
	}
}

// end uncorks and writes what was held; the reader calls it when it stops.
func (c *cork) end() {
	if c.on {
		// Let the goroutines the burst made ready run first (callers
		// answered, a process given its calls): what they send is held
		// too, and goes out in the same write.
		runtime.Gosched()
		c.on = false
		c.t.corks.Add(-1)
		c.t.flushHeld()
	}
}

// wholeFrame reports whether r holds a whole frame, length prefix included.
func wholeFrame(r byteSource) bool {
	if r.Buffered() < 4 {
		return false
	}
	hdr, err := r.Peek(4)
	return err == nil && r.Buffered()-4 >= int(binary.BigEndian.Uint32(hdr))
}

// hold queues b for p while a reader is corked, and notes p for the reader's
// flush; false if no reader is corked or p cannot be written at once (no
// socket yet, TLS). p.mu is held.
func (p *peer) hold(b []byte) bool {
	if p.direct == nil || p.t.corks.Load() == 0 {
		return false
	}
	p.queue = append(p.queue, b)
	if !p.held {
		p.held = true
		t := p.t
		t.heldMu.Lock()
		t.held = append(t.held, p)
		t.heldMu.Unlock()
	}
	return true
}

// flushHeld writes the frames held for every noted peer. Two readers may
// flush at once: each takes the list it found and leaves a fresh one.
func (t *Transport) flushHeld() {
	t.flushes.Add(1)
	t.heldMu.Lock()
	peers := t.held
	t.held, t.heldSpare = t.heldSpare[:0], nil
	t.heldMu.Unlock()
	for i, p := range peers {
		p.writeHeld()
		peers[i] = nil
	}
	t.heldMu.Lock()
	if t.heldSpare == nil {
		t.heldSpare = peers[:0]
	}
	t.heldMu.Unlock()
}

// writeHeld writes p's queue in one non-blocking write, unless another
// goroutine is writing to p or the queue is large: then p's writer gets it.
func (p *peer) writeHeld() {
	p.mu.Lock()
	p.held = false
	if p.closed || len(p.queue) == 0 {
		p.mu.Unlock()
		return
	}
	size := 0
	for _, b := range p.queue {
		size += len(b)
	}
	if p.busy || p.direct == nil || size > maxHeldWrite {
		p.mu.Unlock()
		p.signal()
		return
	}
	batch := p.queue
	p.queue = p.spare[:0]
	p.busy = true
	d := p.direct
	p.mu.Unlock()

	buf := p.scratch[:0]
	for _, b := range batch {
		buf = append(buf, b...)
	}
	n := d.write(buf)
	if cap(buf) <= maxHeldWrite {
		p.scratch = buf[:0]
	}

	p.mu.Lock()
	p.t.heldOut.Add(uint64(p.wrote(batch, n)))
	clear(batch)
	p.spare = batch[:0]
	more := len(p.queue) > 0
	p.mu.Unlock()
	if more {
		p.signal()
	}
}
