package transport

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/switchboard-go/switchboard/internal/wire"
)

// Errors of the transport.
var (
	ErrClosed        = errors.New("transport: closed")
	ErrFrameTooLarge = errors.New("transport: frame too large")
	ErrHandshake     = errors.New("transport: bad handshake")
)

const protocolVersion = 1

// Config configures a Transport.
type Config struct {
	Listen       string                           // host:port; port 0 picks one
	Node         string                           // the node's name, sent in Hello
	Handler      func(from string, f *wire.Frame) // inbound frames, on the connection's goroutine
	PeerDown     func(addr string)                // a connection to or from addr broke
	MaxFrameSize int                              // default 64 MiB
	DialTimeout  time.Duration                    // default 2 s
	Logger       *slog.Logger                     // default: discard
	dial         func(ctx context.Context, addr string) (net.Conn, error)
}

// Stats are the transport's counters.
type Stats struct {
	FramesIn, FramesOut, BadFrames, PeersDown uint64
}

// Transport is one node's listener and its connections to peers.
type Transport struct {
	cfg   Config
	ln    net.Listener
	addr  string
	log   *slog.Logger
	stop  chan struct{}
	wg    sync.WaitGroup
	mu    sync.Mutex
	peers map[string]*peer    // outbound, by address
	in    map[net.Conn]string // inbound, to close them at Close
	done  bool

	framesIn, framesOut, badFrames, peersDown atomic.Uint64
}

// Listen starts a transport on cfg.Listen.
func Listen(cfg Config) (*Transport, error) {
	if cfg.MaxFrameSize <= 0 {
		cfg.MaxFrameSize = 64 << 20
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = 2 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Handler == nil || cfg.PeerDown == nil {
		return nil, errors.New("transport: Handler and PeerDown are required")
	}
	if cfg.dial == nil {
		d := &net.Dialer{}
		cfg.dial = func(ctx context.Context, addr string) (net.Conn, error) { return d.DialContext(ctx, "tcp", addr) }
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, err
	}
	t := &Transport{
		cfg:   cfg,
		ln:    ln,
		addr:  ln.Addr().String(),
		log:   cfg.Logger,
		stop:  make(chan struct{}),
		peers: map[string]*peer{},
		in:    map[net.Conn]string{},
	}
	t.wg.Add(1)
	go t.accept()
	return t, nil
}

// Addr returns the address the transport listens on.
func (t *Transport) Addr() string { return t.addr }

// Stats returns the counters.
func (t *Transport) Stats() Stats {
	return Stats{t.framesIn.Load(), t.framesOut.Load(), t.badFrames.Load(), t.peersDown.Load()}
}

// Send queues f for the node at addr, dialing it if needed. It returns at
// once; a peer that cannot be reached is reported through PeerDown.
func (t *Transport) Send(addr string, f *wire.Frame) error {
	b, err := proto.Marshal(f)
	if err != nil {
		return err
	}
	if len(b) > t.cfg.MaxFrameSize {
		return fmt.Errorf("%w: %d bytes", ErrFrameTooLarge, len(b))
	}
	for {
		t.mu.Lock()
		if t.done {
			t.mu.Unlock()
			return ErrClosed
		}
		p, ok := t.peers[addr]
		if !ok {
			p = &peer{t: t, addr: addr, wake: make(chan struct{}, 1)}
			t.peers[addr] = p
			t.wg.Add(1)
			go p.run()
		}
		t.mu.Unlock()
		if p.push(b) {
			return nil
		}
		// The peer went down between the lookup and the push: dial anew.
	}
}

// Close stops listening, closes every connection and returns when all the
// transport's goroutines have ended. PeerDown is not called for connections
// that Close itself breaks.
func (t *Transport) Close() error {
	t.mu.Lock()
	if t.done {
		t.mu.Unlock()
		return nil
	}
	t.done = true
	close(t.stop)
	err := t.ln.Close()
	for c := range t.in {
		_ = c.Close()
	}
	for _, p := range t.peers {
		p.close()
	}
	t.mu.Unlock()
	t.wg.Wait()
	return err
}

func (t *Transport) closing() bool {
	select {
	case <-t.stop:
		return true
	default:
		return false
	}
}

func (t *Transport) peerDown(addr string) {
	if t.closing() {
		return
	}
	t.peersDown.Add(1)
	t.log.Info("peer down", "peer", addr)
	t.cfg.PeerDown(addr)
}

func (t *Transport) accept() {
	defer t.wg.Done()
	for {
		c, err := t.ln.Accept()
		if err != nil {
			if t.closing() {
				return
			}
			t.log.Warn("accept", "error", err)
			select {
			case <-t.stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			continue
		}
		t.mu.Lock()
		if t.done {
			t.mu.Unlock()
			_ = c.Close()
			return
		}
		t.in[c] = ""
		t.wg.Add(1)
		t.mu.Unlock()
		go t.serve(c)
	}
}

// serve reads the Hello and then the frames of one inbound connection.
func (t *Transport) serve(c net.Conn) {
	defer t.wg.Done()
	defer func() {
		t.mu.Lock()
		delete(t.in, c)
		t.mu.Unlock()
		_ = c.Close()
	}()
	r := bufio.NewReaderSize(c, 64<<10)
	_ = c.SetReadDeadline(time.Now().Add(t.cfg.DialTimeout))
	var hello wire.Hello
	if err := t.read(r, &hello); err != nil || hello.GetVersion() != protocolVersion || hello.GetAddress() == "" {
		t.badFrames.Add(1)
		t.log.Warn("rejected connection", "remote", c.RemoteAddr().String(), "error", fmt.Errorf("%w: %v", ErrHandshake, err))
		return
	}
	_ = c.SetReadDeadline(time.Time{})
	from := hello.GetAddress()
	for {
		f := &wire.Frame{}
		if err := t.read(r, f); err != nil {
			if !errors.Is(err, io.EOF) && !t.closing() && !errors.Is(err, net.ErrClosed) {
				t.badFrames.Add(1)
				t.log.Warn("closing connection", "peer", from, "error", err)
			}
			t.peerDown(from)
			return
		}
		t.framesIn.Add(1)
		t.cfg.Handler(from, f)
	}
}

// read reads one length-prefixed message into m.
func (t *Transport) read(r *bufio.Reader, m proto.Message) error {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return err
	}
	size := binary.BigEndian.Uint32(hdr[:])
	if int64(size) > int64(t.cfg.MaxFrameSize) {
		return fmt.Errorf("%w: %d bytes", ErrFrameTooLarge, size)
	}
	buf := make([]byte, size)
	if _, err := io.ReadFull(r, buf); err != nil {
		return err
	}
	if err := proto.Unmarshal(buf, m); err != nil {
		return fmt.Errorf("transport: undecodable frame: %w", err)
	}
	return nil
}

func writeMsg(w *bufio.Writer, b []byte) error {
	var hdr [4]byte
	binary.BigEndian.PutUint32(hdr[:], uint32(len(b)))
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	_, err := w.Write(b)
	return err
}
