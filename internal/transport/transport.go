package transport

import (
	"bufio"
	"cmp"
	"context"
	"crypto/tls"
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

// Errors of the transport. Test them with errors.Is.
var (
	// ErrClosed: the transport has been closed.
	ErrClosed = errors.New("transport: closed")
	// ErrFrameTooLarge: a frame exceeds Config.MaxFrameSize.
	ErrFrameTooLarge = errors.New("transport: frame too large")
	// ErrHandshake: a connection did not pass the handshake, so no frame
	// crossed it: it was refused (TLS failed, the peer speaks another
	// protocol version, or the cookies differ), or it closed before the
	// handshake completed (ErrHandshakeClosed).
	ErrHandshake = errors.New("transport: handshake failed")
	// ErrBadCookie: the peer does not hold this node's cookie. It wraps
	// ErrHandshake.
	ErrBadCookie = fmt.Errorf("%w: cookie mismatch", ErrHandshake)
	// ErrHandshakeClosed: the connection closed (EOF, reset) before its
	// handshake completed. Most often the peer was stopping; a peer that
	// refuses without saying why (a TLS listener dialed without TLS, a
	// plain one dialed with it) looks the same from this side, and the
	// other side, which knows, counts and logs the refusal. It wraps
	// ErrHandshake, and is not counted as a refusal.
	ErrHandshakeClosed = fmt.Errorf("%w: connection closed", ErrHandshake)
	// ErrDisconnected: Disconnect closed the connections to the peer.
	ErrDisconnected = errors.New("transport: disconnected")
)

// Config configures a Transport.
type Config struct {
	Listen string // host:port; port 0 picks one
	Node   string // the node's name, sent in the handshake
	// Cookie is the cluster's shared secret, Erlang's cookie: a connection
	// is refused unless both ends hold the same one. It never crosses the
	// network (see the handshake in wire.proto). Empty on both ends: any
	// peer is accepted; empty on one end only: refused.
	Cookie string
	// TLS, if set, makes the listener accept TLS only and every dial use
	// TLS, both with this config: Certificates is the node's own
	// certificate, RootCAs verifies the peers it dials (by their host unless
	// ServerName is set), and ClientCAs with ClientAuth
	// tls.RequireAndVerifyClientCert makes it mutual.
	TLS          *tls.Config
	Handler      func(from string, f *wire.Frame) // inbound frames, on the connection's goroutine; f itself is reused once it returns, what its fields point to is not
	PeerDown     func(addr string, err error)     // a connection to or from addr broke, or its handshake failed; err says why
	MaxFrameSize int                              // default 64 MiB
	DialTimeout  time.Duration                    // bounds a dial and its handshake; default 2 s
	Logger       *slog.Logger                     // default: discard
	Limits                                        // what peers can make the node hold; see Limits
	// TickTime bounds a peer's silence, as Erlang's net_ticktime: each
	// connection ticks both ways every TickTime/4, and a peer from which
	// nothing was read for TickTime is declared down (PeerDown with
	// ErrPeerTimeout) within TickTime + TickTime/4; see tick.go. Default
	// 4 s. The handshake exchanges both sides' TickTimes, and a connection
	// waits for the larger.
	TickTime time.Duration
	// Epoch is where the transport's clock (Clock) counts from; default
	// the time Listen was called. The node gives its own, so that both
	// count alike.
	Epoch time.Time
	// Incarnation tells this life of the node from its others at the same
	// address (see identity.go); default: the time Listen was called, in
	// unix nanoseconds.
	Incarnation uint64
	// Dial, if set, opens the TCP connections to peers (and the dialbacks
	// that confirm inbound ones) instead of a plain dial of addr; TLS, if
	// set, runs over what it returns. Default: net.Dialer.
	Dial      func(ctx context.Context, addr string) (net.Conn, error)
	dial      func(ctx context.Context, addr string) (net.Conn, error)
	directGap time.Duration // see defaultDirectGap; tests shorten it
	advertise string        // tests: the address to claim instead of the listener's
	resolver  *net.Resolver // resolves the addresses dialers say they dialed; default net.DefaultResolver
}

// Stats are the transport's counters, and three gauges.
type Stats struct {
	FramesIn, FramesOut uint64
	BadFrames           uint64 // frames that were too large or did not decode; each closed its connection
	PeersDown           uint64 // PeerDown reports
	Refused             uint64 // connections, in or out, whose handshake was refused (not those closed during it: ErrHandshakeClosed)
	Unconfirmed         uint64 // inbound connections refused because their claimed address did not confirm them (in Refused too)
	TimedOut            uint64 // connections closed because nothing came from their peer for TickTime
	// PendingRefused counts connections closed as soon as accepted because
	// Limits.MaxPendingConns others were in their handshake.
	PendingRefused uint64
	// SlowFrames counts connections cut because a frame did not arrive
	// whole within Limits.FrameTimeout of its length prefix (a slow or
	// stalled sender, or no room under MaxInflightBytes in that time).
	SlowFrames uint64
	// InflightWaits counts frames whose reader waited for room under
	// Limits.MaxInflightBytes.
	InflightWaits uint64
	// Overloaded counts data frames Send refused with ErrOverloaded because
	// their peer's queue was full (Limits.MaxPeerQueueBytes).
	Overloaded uint64
	// RefusalsLogged and RefusalsSuppressed count the refused connections
	// (Refused and PendingRefused) logged as a warning, and those the
	// rate limit kept out of the log.
	RefusalsLogged, RefusalsSuppressed uint64

	PendingConns  int   // gauge: accepted connections in their handshake now
	InflightBytes int64 // gauge: bytes of large frames being read or handled now
	QueuedBytes   int64 // gauge: bytes queued for all peers now, not yet taken by their sockets
}

// inbound is an accepted connection.
type inbound struct {
	from string      // the dialer's address once established (identity.go); under Transport.mu
	cut  atomic.Bool // Disconnect closed it: deliver and report nothing more
	live live        // its liveness (tick.go)
	done chan struct{}
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
	peers map[string]*peer      // outbound, by address
	in    map[net.Conn]*inbound // inbound, to close them at Close or Disconnect
	from  map[string]*inbound   // the established inbound connection of each address (identity.go)
	done  bool

	inc                   uint64 // this node's incarnation
	dials                 dials  // handshakes in progress as a dialer (verify.go)
	lives                 lives  // established connections, for the watchdog (tick.go)
	unconfirmed, timedOut atomic.Uint64

	framesIn, framesOut, badFrames, peersDown, refused atomic.Uint64
	peerStats                                          peerTable     // traffic by peer
	directOut, partial                                 atomic.Uint64 // frames written at once by their sender, and those the socket took only part of
	writerWrites                                       atomic.Uint64 // batches written by the peers' writer goroutines

	// The limits' state and counters (see limits.go).
	pendingRefused, slowFrames, overloaded atomic.Uint64
	refusalsLogged, refusalsSuppressed     atomic.Uint64
	pending                                atomic.Int64 // connections in their handshake; only accept adds
	inflight                               *inflight
	refusals                               *logLimiter

	corks     atomic.Int32  // readers in a burst of frames (see cork.go)
	heldOut   atomic.Uint64 // frames written by a reader at the end of a burst
	flushes   atomic.Uint64 // flushHeld calls
	heldMu    sync.Mutex
	held      []*peer // peers with frames held while corked
	heldSpare []*peer
}

// Listen starts a transport on cfg.Listen.
func Listen(cfg Config) (*Transport, error) {
	if cfg.MaxFrameSize <= 0 {
		cfg.MaxFrameSize = 64 << 20
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = 2 * time.Second
	}
	if cfg.TickTime <= 0 {
		cfg.TickTime = defaultTickTime
	}
	if cfg.Incarnation == 0 {
		cfg.Incarnation = uint64(time.Now().UnixNano())
	}
	if cfg.Epoch.IsZero() {
		cfg.Epoch = time.Now()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.directGap == 0 {
		cfg.directGap = defaultDirectGap
	}
	if cfg.resolver == nil {
		cfg.resolver = net.DefaultResolver
	}
	cfg.Limits = cfg.Limits.withDefaults(cfg.MaxFrameSize)
	if cfg.Handler == nil || cfg.PeerDown == nil {
		return nil, errors.New("transport: Handler and PeerDown are required")
	}
	if err := checkTLS(cfg.TLS); err != nil {
		return nil, err
	}
	if cfg.TLS != nil {
		cfg.TLS = cfg.TLS.Clone()
	}
	if cfg.dial == nil {
		cfg.dial = cfg.Dial
	}
	if cfg.dial == nil {
		d := &net.Dialer{}
		cfg.dial = func(ctx context.Context, addr string) (net.Conn, error) { return d.DialContext(ctx, "tcp", addr) }
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, err
	}
	if cfg.TLS != nil {
		ln = tls.NewListener(ln, cfg.TLS)
	}
	t := &Transport{
		cfg:   cfg,
		ln:    ln,
		addr:  cmp.Or(cfg.advertise, ln.Addr().String()),
		log:   cfg.Logger,
		stop:  make(chan struct{}),
		peers: map[string]*peer{},
		in:    map[net.Conn]*inbound{},
		from:  map[string]*inbound{},
		inc:   cfg.Incarnation,

		inflight: newInflight(cfg.MaxInflightBytes),
		refusals: newLogLimiter(refusalBurst, refusalWindow, refusalKeys),
	}
	t.wg.Add(2)
	go t.accept()
	go t.ticker()
	return t, nil
}

// Addr returns the address the transport listens on.
func (t *Transport) Addr() string { return t.addr }

// Stats returns the counters.
func (t *Transport) Stats() Stats {
	return Stats{
		FramesIn:           t.framesIn.Load(),
		FramesOut:          t.framesOut.Load(),
		BadFrames:          t.badFrames.Load(),
		PeersDown:          t.peersDown.Load(),
		Refused:            t.refused.Load(),
		Unconfirmed:        t.unconfirmed.Load(),
		TimedOut:           t.timedOut.Load(),
		PendingRefused:     t.pendingRefused.Load(),
		SlowFrames:         t.slowFrames.Load(),
		InflightWaits:      t.inflight.waits.Load(),
		Overloaded:         t.overloaded.Load(),
		RefusalsLogged:     t.refusalsLogged.Load(),
		RefusalsSuppressed: t.refusalsSuppressed.Load(),
		PendingConns:       int(t.pending.Load()),
		InflightBytes:      t.inflight.inUse(),
		QueuedBytes:        t.queuedBytes(),
	}
}

// Send queues f for the node at addr, dialing it if needed. It returns at
// once; a peer that cannot be reached is reported through PeerDown. A call,
// reply, cast or info that does not fit the peer's queue is not queued, and
// Send returns ErrOverloaded (see Limits.MaxPeerQueueBytes).
func (t *Transport) Send(addr string, f *wire.Frame) error {
	b, err := marshalFrame(f)
	if err != nil {
		return err
	}
	if len(b)-4 > t.cfg.MaxFrameSize {
		recycleFrame(b)
		return fmt.Errorf("%w: %d bytes", ErrFrameTooLarge, len(b)-4)
	}
	room := t.room(f)
	for {
		t.mu.Lock()
		if t.done {
			t.mu.Unlock()
			return ErrClosed
		}
		p, ok := t.peers[addr]
		if !ok {
			// A new peer starts with the frame queued: one that fails fast
			// (refused, unreachable) must not make Send dial twice.
			p = &peer{t: t, addr: addr, wake: make(chan struct{}, 1), queue: [][]byte{b}, stats: t.peerStats.of(addr)}
			p.queued.Store(int64(len(b)))
			p.wake <- struct{}{}
			t.peers[addr] = p
			t.wg.Add(1)
			go p.run()
			t.mu.Unlock()
			return nil
		}
		t.mu.Unlock()
		if err := p.push(b, room); err != errPeerDown {
			if err != nil {
				recycleFrame(b)
			}
			return err
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

func (t *Transport) peerDown(addr string, err error) {
	if t.closing() {
		return
	}
	t.peersDown.Add(1)
	t.log.Info("peer down", "peer", addr, "error", err)
	t.cfg.PeerDown(addr, err)
}

// handshakeFailed counts and logs a failed handshake with peer. A refusal
// is a warning, rate limited (see refusals.go); a connection that merely
// closed during the handshake (the peer stopping, see ErrHandshakeClosed)
// is not a refusal, and not counted.
func (t *Transport) handshakeFailed(peer string, err error) {
	if errors.Is(err, ErrHandshakeClosed) {
		t.log.Debug("connection closed during the handshake", "peer", peer, "error", err)
		return
	}
	if !errors.As(err, new(countedRefusal)) {
		t.refused.Add(1)
	}
	t.logRefusal("handshake refused", peer, err)
}

// countedRefusal is a handshake error already counted in Stats.Refused:
// the listener counts a refusal before it writes it (welcome).
type countedRefusal struct{ error }

func (e countedRefusal) Unwrap() error { return e.error }

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
		if !t.admit(c) {
			continue
		}
		t.mu.Lock()
		if t.done {
			t.mu.Unlock()
			t.pending.Add(-1)
			_ = c.Close()
			return
		}
		in := &inbound{}
		t.in[c] = in
		t.wg.Add(1)
		t.mu.Unlock()
		go t.serve(c, in)
	}
}

// serve runs the handshake and then reads the frames of one inbound
// connection. A refused handshake reports nothing: the address in its Hello
// is only a claim; nor does a connection that is not the established one
// of its address (identity.go).
func (t *Transport) serve(c net.Conn, in *inbound) {
	defer t.wg.Done()
	in.done = make(chan struct{})
	defer close(in.done)
	defer func() {
		t.mu.Lock()
		delete(t.in, c)
		t.mu.Unlock()
		_ = c.Close()
	}()
	r := bufio.NewReaderSize(in.live.counting(c), handshakeBufSize) // a connReader once authenticated
	from, ok := t.open(c, r, in)
	if !ok {
		return
	}
	defer t.unwatch(&in.live)
	cr := authenticated(r, in.live.counting(c))
	defer cr.release()
	buf := t.newFrameReader(c, &in.live)
	defer buf.done()
	ck := &cork{t: t}
	defer ck.end()
	pc := t.peerStats.of(from)
	f := &wire.Frame{} // reused: Config.Handler does not keep it
	for {
		f.Reset()
		if err := t.read(cr, f, &buf); err != nil {
			if errors.Is(err, ErrFrameTooLarge) || errors.Is(err, errUndecodable) {
				pc.badFrames.Add(1)
			}
			if in.cut.Load() {
				return
			}
			if !errors.Is(err, io.EOF) && !t.closing() && !errors.Is(err, net.ErrClosed) {
				t.log.Warn("closing connection", "peer", from, "error", err)
			}
			reason := in.live.reason(err)
			t.unwatch(&in.live) // before the report: DownBy must not count a connection already down
			if t.release(in) {
				t.peerDown(from, reason)
			}
			return
		}
		if in.cut.Load() {
			return
		}
		ck.before(cr)
		if !isTick(f) {
			t.framesIn.Add(1)
			pc.framesIn.Add(1)
			pc.bytesIn.Add(uint64(buf.size) + 4)
			t.cfg.Handler(from, f)
		}
		ck.after()
	}
}

// read reads one length-prefixed frame into m, through fr (see
// frameReader.next): the decoders (wire's and proto's) copy the bytes they
// keep, so one buffer serves a connection's frames up to keepReadBuf; a
// larger frame gets a buffer of its own, which the decoded frame keeps
// (wire.UnmarshalFrameOwned) instead of a copy.
func (t *Transport) read(r byteSource, m proto.Message, fr *frameReader) error {
	return fr.next(r, m)
}

// Frame buffers, once written, are recycled (see Send and peer), so that
// neither a stream of small frames nor one of large frames allocates a
// buffer each. Small ones go to smallFrameBufs, a free list that takes and
// gives []byte as they are (a sync.Pool boxes each Put: an allocation per
// frame); it holds at most smallFrameBufs' capacity of smallFrameBuf bytes
// each. Larger ones go to frameBufs, which the collector may empty.
var (
	smallFrameBufs = make(chan []byte, 256)
	frameBufs      sync.Pool
)

const (
	smallFrameBuf = 16 << 10
	keepFrameBuf  = 4 << 20 // the largest frame buffer that is recycled
)

// marshalFrame encodes f into a recycled buffer, length prefix included,
// so that the frame is one write.
func marshalFrame(f *wire.Frame) ([]byte, error) {
	var b []byte
	select {
	case b = <-smallFrameBufs:
	default:
		if p, ok := frameBufs.Get().(*[]byte); ok {
			b = (*p)[:0]
		}
	}
	b = append(b, 0, 0, 0, 0)
	b, err := wire.AppendFrame(b, f)
	if err != nil {
		return nil, err
	}
	binary.BigEndian.PutUint32(b, uint32(len(b)-4))
	return b, nil
}

// recycleFrame gives back the buffer of a frame that has been written.
func recycleFrame(b []byte) {
	switch c := cap(b); {
	case c <= smallFrameBuf:
		select {
		case smallFrameBufs <- b[:0]:
		default:
		}
	case c <= keepFrameBuf:
		bp := new([]byte) // not &b: b would move to the heap on every call
		*bp = b[:0]
		frameBufs.Put(bp)
	}
}

// keepReadBuf is the largest read buffer a connection keeps between frames:
// an idle connection holds no more than it (and its connReader's small
// buffer). A larger frame gets a buffer of its own, which the decoded
// frame aliases instead of copying.
const keepReadBuf = 16 << 10

// readMsg reads one length-prefixed message of at most limit bytes into m.
func readMsg(r *bufio.Reader, m proto.Message, limit int) error {
	var buf []byte
	return readMsgInto(r, m, limit, &buf)
}

func readMsgInto(r byteSource, m proto.Message, limit int, keep *[]byte) error {
	size, err := readHeader(r, limit)
	if err != nil {
		return err
	}
	return readBody(r, m, size, keep)
}

// errUndecodable wraps the decoders' errors.
var errUndecodable = errors.New("transport: undecodable frame")

// readHeader reads a length prefix of at most limit.
func readHeader(r byteSource, limit int) (int, error) {
	hdr, err := r.Peek(4) // not io.ReadFull into an array: that array escapes, an allocation per frame
	if err != nil {
		if len(hdr) > 0 && err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return 0, err
	}
	size := binary.BigEndian.Uint32(hdr)
	_, _ = r.Discard(4)
	if int64(size) > int64(limit) {
		return 0, fmt.Errorf("%w: %d bytes", ErrFrameTooLarge, size)
	}
	return int(size), nil
}

// readBody reads the size bytes of a message into *keep, or into a buffer
// of its own if *keep is smaller, and decodes them into m.
func readBody(r byteSource, m proto.Message, size int, keep *[]byte) error {
	buf, own := *keep, false
	if cap(buf) < size {
		buf = make([]byte, size)
		if size <= keepReadBuf {
			*keep = buf
		} else {
			own = true // used once: the frame may keep it
		}
	}
	buf = buf[:size]
	if _, err := io.ReadFull(r, buf); err != nil {
		return err
	}
	var err error
	if f, ok := m.(*wire.Frame); ok && own {
		err = wire.UnmarshalFrameOwned(buf, f)
	} else if ok {
		err = wire.UnmarshalFrame(buf, f)
	} else {
		err = proto.Unmarshal(buf, m)
	}
	if err != nil {
		return fmt.Errorf("%w: %w", errUndecodable, err)
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
