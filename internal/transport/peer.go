package transport

import (
	"bufio"
	"context"
	"io"
	"net"
	"sync"

	"google.golang.org/protobuf/proto"

	"github.com/switchboard-go/switchboard/internal/wire"
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

// close ends the peer from Transport.Close.
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
	t := p.t
	defer t.wg.Done()
	defer p.down()
	ctx, cancel := context.WithTimeout(context.Background(), t.cfg.DialTimeout)
	go func() { // the dial ends early if the transport closes
		select {
		case <-t.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	c, err := t.cfg.dial(ctx, p.addr)
	cancel()
	if err != nil {
		t.log.Info("dial failed", "peer", p.addr, "error", err)
		return
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		_ = c.Close()
		return
	}
	p.conn = c
	p.mu.Unlock()
	defer c.Close()

	// The peer never writes on this connection; a read ending means it closed.
	readerDone := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, c)
		_ = c.Close()
		close(readerDone) // the writer waits on this too: no wake-up can be lost
	}()
	defer func() { _ = c.Close(); <-readerDone }()

	w := bufio.NewWriterSize(c, 64<<10)
	hello, _ := proto.Marshal(&wire.Hello{Version: protocolVersion, Address: t.addr, Node: t.cfg.Node})
	if writeMsg(w, hello) != nil || w.Flush() != nil {
		return
	}
	for {
		select {
		case <-p.wake:
		case <-readerDone:
			return
		}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return
		}
		batch := p.queue
		p.queue = p.spare[:0]
		p.mu.Unlock()
		for i, b := range batch {
			if err := writeMsg(w, b); err != nil {
				return
			}
			batch[i] = nil
		}
		if err := w.Flush(); err != nil {
			return
		}
		t.framesOut.Add(uint64(len(batch)))
		p.mu.Lock()
		p.spare = batch
		p.mu.Unlock()
	}
}

// down removes the peer, so the next Send dials again, and reports it.
func (p *peer) down() {
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
		t.peerDown(p.addr)
	}
}
