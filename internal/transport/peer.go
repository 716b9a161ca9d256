package transport

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// peer is the outbound connection to one node: a queue of encoded frames and
// the goroutine that dials and writes them. Once the connection is up, a
// frame sent while nothing is queued or being written is written at once
// by the sending goroutine, with one non-blocking write (see directWrite):
// that saves handing it to the writer goroutine, a wake-up per frame. What
// the socket does not take at once, and every frame that finds another
// write in progress, is queued for the writer, which batches them.
type peer struct {
	t    *Transport
	addr string
	wake chan struct{} // capacity 1: the queue is not empty, or the peer closes

	mu      sync.Mutex
	queue   [][]byte     // frames, length prefix included, in order
	queued  atomic.Int64 // bytes pushed and not yet taken by the socket (or bufio); added to under mu
	spare   [][]byte
	conn    net.Conn
	direct  *directWrite // the socket of conn once it is up; nil: writer only (TLS)
	busy    bool         // a goroutine is writing to conn: the writer or a sender
	last    time.Time    // when the last frame was written at once
	held    bool         // in Transport.held: a reader writes the queue when its burst ends
	scratch []byte       // writeHeld's buffer, under busy
	iov     [][]byte     // write's vector, under busy
	tickDue bool         // the watchdog asks the writer for an empty frame (tick.go)
	kept    chan kept    // set: a dialback may become the connection (verify.go)
	closed  bool
	stats   *peerCounters // traffic with this peer, out
}

// defaultDirectGap: a frame sent sooner than this after the last one
// written at once is queued for the writer instead, which batches it with
// the frames that follow; under load that saves a write per frame.
const defaultDirectGap = 20 * time.Microsecond

// errPeerDown: push found the peer down; Send dials anew.
var errPeerDown = errors.New("transport: peer down")

// push sends or queues b, a frame with its length prefix: errPeerDown if
// the peer is already down, ErrOverloaded if b would make the queue
// exceed room (its frame's bound, see Transport.room; 0: none); then
// nothing of b is queued.
func (p *peer) push(b []byte, room int64) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return errPeerDown
	}
	if q := p.queued.Load(); room > 0 && q > 0 && q+int64(len(b)) > room {
		p.mu.Unlock()
		return p.overloaded(len(b))
	}
	p.queued.Add(int64(len(b)))
	if p.hold(b) {
		p.mu.Unlock()
		if p.t.corks.Load() == 0 { // the burst ended meanwhile: its flush may have missed b
			p.signal()
		}
		return nil
	}
	now := time.Now()
	if p.direct == nil || p.busy || len(p.queue) > 0 || now.Sub(p.last) < p.t.cfg.directGap {
		p.queue = append(p.queue, b)
		p.mu.Unlock()
		p.signal()
		return nil
	}
	p.busy = true
	p.last = now
	d := p.direct
	p.mu.Unlock()

	n := d.write(b)

	p.mu.Lock()
	p.t.directOut.Add(uint64(p.wrote([][]byte{b}, n)))
	more := len(p.queue) > 0
	p.mu.Unlock()
	if more {
		p.signal()
	}
	return nil
}

// wrote ends a write of frames, one after the other, of which the socket
// took n bytes (0 if it was full, or broken: the writer finds out which).
// The frames taken whole are recycled and counted; the rest of one taken
// in part, and those not taken, go back to the front of the queue, in
// order, since frames queued meanwhile were sent after them. It returns
// how many were taken whole. p.mu is held.
func (p *peer) wrote(frames [][]byte, n int) int {
	p.busy = false
	p.queued.Add(-int64(n))
	var left [][]byte
	sent, off, bytes := 0, 0, 0
	for _, b := range frames {
		end := off + len(b)
		switch {
		case end <= n:
			bytes += len(b)
			recycleFrame(b)
			sent++
		case off < n:
			left = append(left, append([]byte(nil), b[n-off:]...))
			recycleFrame(b)
		default:
			left = append(left, b)
		}
		off = end
	}
	p.t.framesOut.Add(uint64(sent))
	p.countOut(sent, bytes)
	if len(left) > 0 {
		p.t.partial.Add(1)
		p.queue = append(left, p.queue...)
	}
	return sent
}

func (p *peer) signal() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// close ends the peer without reporting it (Transport.Close, Disconnect).
func (p *peer) close() {
	p.mu.Lock()
	p.closed = true
	if p.conn != nil {
		_ = p.conn.Close()
	}
	p.mu.Unlock()
	p.signal()
}

func (p *peer) run() {
	defer p.t.wg.Done()
	p.down(p.serve())
}

// connect returns the peer's connection once its handshake is done: a
// dialback this node kept as it (verify.go), or one it dials.
func (p *peer) connect() (net.Conn, *bufio.Reader, peerSide, error) {
	if c, r, side, ok := p.takeKept(); ok {
		return c, r, side, nil
	} else if p.kept != nil && p.isClosed() {
		return nil, nil, peerSide{}, ErrClosed
	}
	t := p.t
	ctx, cancel := context.WithTimeout(context.Background(), t.cfg.DialTimeout)
	go func() { // the dial ends early if the transport closes
		select {
		case <-t.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	c, err := t.dialConn(ctx, p.addr)
	cancel()
	if err != nil {
		if errors.Is(err, ErrHandshake) && !p.isClosed() {
			t.handshakeFailed(p.addr, err)
		} else {
			t.log.Info("dial failed", "peer", p.addr, "error", err)
		}
		return nil, nil, peerSide{}, err
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		_ = c.Close()
		return nil, nil, peerSide{}, ErrClosed
	}
	p.conn = c
	p.mu.Unlock()
	r := bufio.NewReaderSize(c, 512)
	_ = c.SetDeadline(time.Now().Add(t.cfg.DialTimeout))
	side, err := t.greet(r, bufio.NewWriterSize(c, handshakeBufSize), p.addr, nil)
	if err != nil {
		if !p.isClosed() {
			t.handshakeFailed(p.addr, err)
		}
		_ = c.Close()
		return nil, nil, peerSide{}, err
	}
	return c, r, side, nil
}

// serve dials, runs the handshake and writes frames until the connection
// breaks or the peer closes; it returns why.
func (p *peer) serve() (err error) {
	t := p.t
	c, r, side, err := p.connect()
	if err != nil {
		return err
	}
	defer c.Close()
	w := bufio.NewWriterSize(c, handshakeBufSize) // ticks; frames go out in one writev (write)
	_ = c.SetDeadline(time.Time{})
	l := &live{}
	t.initLive(l, c, p, p.addr, side)
	t.watch(l)
	defer t.unwatch(l)
	defer func() { err = l.reason(err) }() // cut by the watchdog: say so

	// The peer writes only ticks after the handshake; a read ending means
	// it closed.
	readerDone := make(chan struct{})
	var readErr error
	go func() {
		readErr = l.drain(r)
		_ = c.Close()
		close(readerDone) // the writer waits on this too: no wake-up can be lost
	}()
	defer func() { _ = c.Close(); <-readerDone }()

	if tc, ok := c.(*net.TCPConn); ok {
		raw, err := tc.SyscallConn()
		if err == nil {
			p.mu.Lock()
			p.direct = newDirectWrite(raw)
			p.mu.Unlock()
		}
	}
	if p.direct == nil { // TLS: frames are batched into records through a large buffer
		w = bufio.NewWriterSize(c, 64<<10)
	}
	for {
		select {
		case <-p.wake:
		case <-readerDone:
			if readErr == nil {
				readErr = io.EOF
			}
			return readErr
		}
		// Let the goroutines that are ready to run go first: the senders
		// woken with the one that woke the writer (callers answered by
		// one read, say) queue their frames meanwhile, and one write takes
		// them all instead of one write each; with nothing else ready it
		// returns at once.
		runtime.Gosched()
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return ErrClosed
		}
		if p.tickDue && !p.busy && len(p.queue) == 0 {
			p.mu.Unlock()
			if err := p.writeTick(w); err != nil {
				return err
			}
			continue
		}
		if p.busy || len(p.queue) == 0 {
			// A sender is writing: it signals again if it leaves frames.
			p.mu.Unlock()
			continue
		}
		batch := p.queue
		p.queue = p.spare[:0]
		p.busy = true
		p.mu.Unlock()
		t.writerWrites.Add(1)
		err := p.write(c, w, batch)
		p.mu.Lock()
		p.busy = false
		p.spare = batch
		more := len(p.queue) > 0
		p.mu.Unlock()
		if err != nil {
			return err
		}
		if more {
			p.signal()
		}
	}
}

// write writes a batch of frames: to a TCP connection in one writev (no
// copy, no write buffer to keep per connection), to others (TLS) through
// w, flushed. p.busy is set.
func (p *peer) write(c net.Conn, w *bufio.Writer, batch [][]byte) error {
	bytes := 0
	if p.direct != nil {
		p.iov = append(p.iov[:0], batch...) // WriteTo consumes its slice
		bufs := net.Buffers(p.iov)
		_, err := bufs.WriteTo(c)
		clear(p.iov[:cap(p.iov)])
		if err != nil {
			return err
		}
		for i, b := range batch {
			bytes += len(b)
			p.queued.Add(-int64(len(b)))
			recycleFrame(b)
			batch[i] = nil
		}
		p.t.framesOut.Add(uint64(len(batch)))
		p.countOut(len(batch), bytes)
		return nil
	}
	for i, b := range batch {
		if _, err := w.Write(b); err != nil {
			return err
		}
		bytes += len(b)
		p.queued.Add(-int64(len(b)))
		recycleFrame(b) // bufio has copied or written it
		batch[i] = nil
	}
	if err := w.Flush(); err != nil {
		return err
	}
	p.t.framesOut.Add(uint64(len(batch)))
	p.countOut(len(batch), bytes)
	return nil
}

// countOut counts frames and bytes written to the peer, ticks aside (a
// tick is an empty frame, its 4-byte prefix alone).
func (p *peer) countOut(frames, bytes int) {
	if p.stats != nil && frames > 0 {
		p.stats.framesOut.Add(uint64(frames))
		p.stats.bytesOut.Add(uint64(bytes))
	}
}

func (p *peer) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

// down removes the peer, so the next Send dials again, and reports it with
// err unless the peer was closed on purpose (Close, Disconnect).
func (p *peer) down(err error) {
	t := p.t
	t.mu.Lock()
	if t.peers[p.addr] == p {
		delete(t.peers, p.addr)
	}
	t.mu.Unlock()
	p.mu.Lock()
	closed := p.closed
	p.closed = true
	p.queue = nil
	p.mu.Unlock()
	if !closed {
		t.peerDown(p.addr, err)
	}
}
