package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
)

// Bare TCP is the floor, not a competitor: the same processes in the same
// topology pass 8-byte frames (a caller's number and "ping" or "pong") over
// plain loopback TCP, with no framework, no encoding and no routing. The
// client's callers write their ping on a shared connection and wait for
// their pong from one reader goroutine; the relay (in the exchange's place)
// and the echo (in the controller's) read a frame and write it on, a flush
// whenever their read buffer is empty. What Switchboard adds to that is
// its whole cost; what the floor is, this machine can do at most.

const tcpFrame = 8

var (
	tcpPing = [4]byte{'p', 'i', 'n', 'g'}
	tcpPong = [4]byte{'p', 'o', 'n', 'g'}
)

// Connection greetings, the first byte a client or relay writes to the echo.
const (
	tcpRequests = 'R' // pings to answer on the client's return connection
	tcpReturns  = 'C' // the client's return connection
	tcpAnswer   = 'A' // pings to answer on the same connection
	tcpOK       = 'K' // the echo's answer to tcpReturns
)

// pass reads frames from r and writes each, with body, through w, flushing
// whenever nothing more is buffered to read; it ends with r's error.
func pass(r *bufio.Reader, w flusher, lock sync.Locker, body [4]byte) error {
	var f [tcpFrame]byte
	for {
		if _, err := io.ReadFull(r, f[:]); err != nil {
			return err
		}
		copy(f[4:], body[:])
		lock.Lock()
		_, err := w.Write(f[:])
		if err == nil && r.Buffered() < tcpFrame {
			err = w.Flush()
		}
		lock.Unlock()
		if err != nil {
			return err
		}
	}
}

type flusher interface {
	io.Writer
	Flush() error
}

// returns writes to the echo's latest return connection; its caller holds
// the echo's lock.
type returns struct{ e *tcpEcho }

func (r returns) Write(b []byte) (int, error) {
	if r.e.ret == nil {
		return 0, errors.New("bare tcp: no return connection")
	}
	return r.e.ret.Write(b)
}

func (r returns) Flush() error {
	if r.e.ret == nil {
		return errors.New("bare tcp: no return connection")
	}
	return r.e.ret.Flush()
}

// tcpListener accepts connections and serves each on a goroutine of its
// own until stop, which closes them all and waits for those goroutines.
type tcpListener struct {
	ln   net.Listener
	wg   sync.WaitGroup
	mu   sync.Mutex
	conn map[net.Conn]bool
}

func listenTCP(listen string, serve func(net.Conn)) (*tcpListener, error) {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, err
	}
	l := &tcpListener{ln: ln, conn: map[net.Conn]bool{}}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			l.mu.Lock()
			l.conn[c] = true
			l.mu.Unlock()
			l.wg.Add(1)
			go func() {
				defer l.wg.Done()
				defer c.Close()
				serve(c)
			}()
		}
	}()
	return l, nil
}

func (l *tcpListener) addr() string { return l.ln.Addr().String() }

func (l *tcpListener) stop() {
	_ = l.ln.Close()
	l.mu.Lock()
	for c := range l.conn {
		_ = c.Close()
	}
	l.mu.Unlock()
	l.wg.Wait()
}

// tcpEcho answers pings with pongs: on the same connection for tcpAnswer
// connections, on the latest tcpReturns connection for tcpRequests ones.
type tcpEcho struct {
	*tcpListener
	mu  sync.Mutex // guards ret and writes to it
	ret *bufio.Writer
}

func startTCPEcho(listen string) (*tcpEcho, error) {
	e := &tcpEcho{}
	l, err := listenTCP(listen, func(c net.Conn) { _ = e.serve(c) })
	if err != nil {
		return nil, err
	}
	e.tcpListener = l
	return e, nil
}

func (e *tcpEcho) serve(c net.Conn) error {
	r := bufio.NewReaderSize(c, 64<<10)
	kind, err := r.ReadByte()
	if err != nil {
		return err
	}
	switch kind {
	case tcpAnswer:
		return pass(r, bufio.NewWriterSize(c, 64<<10), &sync.Mutex{}, tcpPong)
	case tcpReturns:
		e.mu.Lock()
		e.ret = bufio.NewWriterSize(c, 64<<10)
		_, err := c.Write([]byte{tcpOK})
		e.mu.Unlock()
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, r) // until the client goes
		return err
	case tcpRequests:
		return pass(r, returns{e}, &e.mu, tcpPong)
	}
	return fmt.Errorf("bare tcp: unknown greeting %q", kind)
}

// tcpRelay passes every ping it gets on to the echo at next, as
// tcpRequests; the echo answers the client directly.
type tcpRelay struct {
	*tcpListener
	next net.Conn
	mu   sync.Mutex // guards writes to out
	out  *bufio.Writer
}

func startTCPRelay(listen, next string) (*tcpRelay, error) {
	n, err := dialTCP(next, tcpRequests)
	if err != nil {
		return nil, err
	}
	t := &tcpRelay{next: n, out: bufio.NewWriterSize(n, 64<<10)}
	l, err := listenTCP(listen, func(c net.Conn) {
		r := bufio.NewReaderSize(c, 64<<10)
		if k, err := r.ReadByte(); err == nil && k == tcpRequests {
			_ = pass(r, t.out, &t.mu, tcpPing)
		}
	})
	if err != nil {
		_ = n.Close()
		return nil, err
	}
	t.tcpListener = l
	return t, nil
}

func (t *tcpRelay) stop() {
	_ = t.next.Close()
	t.tcpListener.stop()
}

// dialTCP connects to addr and greets it with kind.
func dialTCP(addr string, kind byte) (net.Conn, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	if _, err := c.Write([]byte{kind}); err != nil {
		_ = c.Close()
		return nil, err
	}
	return c, nil
}

// tcpTarget is the client side. With an echo address, it sends pings to
// the relay at target and reads pongs on a return connection to the echo
// (three nodes); without, it sends to target and reads pongs on the same
// connection (the relay answers itself, or, in one node, an echo in this
// process does).
type tcpTarget struct {
	out     net.Conn // pings
	in      net.Conn // pongs
	wmu     sync.Mutex
	local   *tcpEcho // one node: the echo in this process
	mu      sync.Mutex
	waiting []chan struct{} // by caller number
	done    chan struct{}   // the reader has ended
	readErr error
}

func newTCPTarget(target, echo string, serveHere bool) (_ target, err error) {
	t := &tcpTarget{done: make(chan struct{})}
	defer func() {
		if err != nil {
			t.close()
		}
	}()
	if serveHere {
		if t.local, err = startTCPEcho("127.0.0.1:0"); err != nil {
			return nil, err
		}
		target = t.local.addr()
	}
	if echo == "" {
		if t.out, err = dialTCP(target, tcpAnswer); err != nil {
			return nil, err
		}
		t.in = t.out
	} else {
		if t.in, err = dialTCP(echo, tcpReturns); err != nil {
			return nil, err
		}
		var ok [1]byte
		if _, err = io.ReadFull(t.in, ok[:]); err != nil || ok[0] != tcpOK {
			return nil, fmt.Errorf("bare tcp: the echo did not take the return connection: %v", err)
		}
		if t.out, err = dialTCP(target, tcpRequests); err != nil {
			return nil, err
		}
	}
	go t.read()
	return t, nil
}

// read hands each pong to its caller.
func (t *tcpTarget) read() {
	defer close(t.done)
	r := bufio.NewReaderSize(t.in, 64<<10)
	var f [tcpFrame]byte
	for {
		if _, err := io.ReadFull(r, f[:]); err != nil {
			t.readErr = err
			return
		}
		id := binary.BigEndian.Uint32(f[:4])
		t.mu.Lock()
		var ch chan struct{}
		if int(id) < len(t.waiting) {
			ch = t.waiting[id]
		}
		t.mu.Unlock()
		if ch == nil || [4]byte(f[4:]) != tcpPong {
			t.readErr = fmt.Errorf("bare tcp: unexpected frame %q", f)
			return
		}
		ch <- struct{}{}
	}
}

func (t *tcpTarget) close() {
	if t.out != nil {
		_ = t.out.Close()
	}
	if t.in != nil && t.in != t.out {
		_ = t.in.Close()
	}
	if t.out != nil || t.in != nil {
		<-t.done
	}
	if t.local != nil {
		t.local.stop()
	}
}

func (t *tcpTarget) newCaller() (caller, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	c := &tcpCaller{t: t, ch: make(chan struct{}, 1)}
	binary.BigEndian.PutUint32(c.frame[:4], uint32(len(t.waiting)))
	copy(c.frame[4:], tcpPing[:])
	t.waiting = append(t.waiting, c.ch)
	return c, nil
}

type tcpCaller struct {
	t     *tcpTarget
	ch    chan struct{}
	frame [tcpFrame]byte
}

func (*tcpCaller) close() {}

func (c *tcpCaller) call(ctx context.Context) error {
	c.t.wmu.Lock()
	_, err := c.t.out.Write(c.frame[:])
	c.t.wmu.Unlock()
	if err != nil {
		return err
	}
	select {
	case <-c.ch:
		return nil
	case <-c.t.done:
		return fmt.Errorf("bare tcp: connection lost: %v", c.t.readErr)
	case <-ctx.Done():
		return ctx.Err()
	}
}
