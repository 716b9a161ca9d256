package transport

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"time"
)

// peer is the outbound connection to one node: a queue of encoded frames and
// the goroutine that dials and writes them.
type peer struct {
	t    *Transport
	addr string
	wake chan struct{} // capacity 1: the queue is not empty, or the peer closes

	mu     sync.Mutex
	queue  [][]byte
	spare  [][]byte
	conn   net.Conn
	closed bool
}

// push queues b; false if the peer is already down.
func (p *peer) push(b []byte) bool {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return false
	}
	p.queue = append(p.queue, b)
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
	return true
}

// close ends the peer without reporting it (Transport.Close, Disconnect).
func (p *peer) close() {
	p.mu.Lock()
	p.closed = true
	if p.conn != nil {
		_ = p.conn.Close()
	}
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

func (p *peer) run() {
	defer p.t.wg.Done()
	p.down(p.serve())
}

// serve dials, runs the handshake and writes frames until the connection
// breaks or the peer closes; it returns why.
func (p *peer) serve() error {
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
			t.refuse(p.addr, err)
		} else {
			t.log.Info("dial failed", "peer", p.addr, "error", err)
		}
		return err
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		_ = c.Close()
		return ErrClosed
	}
	p.conn = c
	p.mu.Unlock()
	defer c.Close()

	r := bufio.NewReaderSize(c, 512)
	w := bufio.NewWriterSize(c, 64<<10)
	_ = c.SetDeadline(time.Now().Add(t.cfg.DialTimeout))
	if err := t.greet(r, w); err != nil {
		if !p.isClosed() {
			t.refuse(p.addr, err)
		}
		return err
	}
	_ = c.SetDeadline(time.Time{})

	// The peer never writes after the handshake; a read ending means it
	// closed.
	readerDone := make(chan struct{})
	var readErr error
	go func() {
		_, readErr = io.Copy(io.Discard, r)
		_ = c.Close()
		close(readerDone) // the writer waits on this too: no wake-up can be lost
	}()
	defer func() { _ = c.Close(); <-readerDone }()

	for {
		select {
		case <-p.wake:
		case <-readerDone:
			if readErr == nil {
				readErr = io.EOF
			}
			return readErr
		}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return ErrClosed
		}
		batch := p.queue
		p.queue = p.spare[:0]
		p.mu.Unlock()
		for i, b := range batch {
			if err := writeMsg(w, b); err != nil {
				return err
			}
			recycleFrame(b) // bufio has copied or written it
			batch[i] = nil
		}
		if err := w.Flush(); err != nil {
			return err
		}
		t.framesOut.Add(uint64(len(batch)))
		p.mu.Lock()
		p.spare = batch
		p.mu.Unlock()
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
