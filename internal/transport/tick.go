package transport

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-go/switchboard/internal/wire"
)

// Liveness, as Erlang's net_ticktime. Each connection is written one way
// by its dialer (frames) and was silent the other way; both ways now tick:
//
//   - the dialer writes an empty frame (a zero length prefix) every tick
//     interval, TickTime/4, unless a frame is being written or queued;
//   - the listener writes one byte, 0, every tick interval;
//   - each side counts what it reads, and a watchdog declares the peer down
//     when the checks of a whole tick time in a row, one per interval,
//     found nothing read since the previous one: the connection is closed
//     and PeerDown reports ErrPeerTimeout.
//
// The tick time of a connection is the larger of its two nodes' TickTimes,
// which the handshake exchanges (as Erlang's net_ticktime should be, but
// unlike Erlang nothing is refused): each side ticks at its own interval,
// every one of which is shorter than a quarter of the connection's tick
// time, and waits for the connection's tick time, so a node with a
// shorter TickTime does not declare a live peer with a longer one down.
//
// Per pair, not per connection. Two nodes that both send have two
// connections, one dialed by each, and anything read from the peer on
// either shows it alive: the watchdog counts a connection's check as
// quiet only if none of the connections of its address read anything
// since the last check. So a listener does not tick on an inbound
// connection whose address this node also has an outbound connection to
// (its own frames and ticks reach that node there), and a dialer does not
// tick where it wrote a frame since the last check: two nodes that talk
// both ways exchange one tick each per interval, not four, and a
// hundred-node mesh half as many (issue 19). A peer that stops is silent
// on every connection, so the bound below holds as it did.
//
// The bound: a peer that stops (SIGSTOP, a stalled VM, a cable pulled) is
// declared down between T and T + TickTime/4 after the last byte read from
// it, where T is the connection's tick time and TickTime this node's, and
// a live one never is while its ticks arrive less than T - TickTime/4
// late. One goroutine per transport sends the ticks and checks every
// connection; the decision (live.silent) is a pure function of the read
// counts it is given.

// ticksPerTickTime is how many tick intervals make a TickTime.
const ticksPerTickTime = 4

// defaultTickTime is Config.TickTime's default.
const defaultTickTime = 4 * time.Second

// tickByte is what the listener writes back every tick.
var tickByte = []byte{0}

// live is the liveness of one established connection.
type live struct {
	c     net.Conn
	p     *peer // outbound: its ticks take the writer's turn; nil: inbound
	addr  string
	inc   uint64        // the peer's incarnation
	clock peerSide      // of an inbound connection: its handshake's bound of the peer's clock (clock.go)
	tick  time.Duration // the connection's tick time: the larger of both sides'
	limit int           // quiet checks that make the peer silent; 0: ticksPerTickTime
	reads atomic.Uint64 // reads that returned bytes
	why   atomic.Pointer[error]

	// the watchdog's own
	seen    uint64
	sent    uint64       // of an outbound connection: its frames written at the last check
	quiet   atomic.Int32 // written by the watchdog only; read by DownBy
	stalled bool         // a tick could not be written back: write no more
}

// initLive sets l up for a connection to addr whose handshake said side,
// and logs it if both sides' TickTimes differ.
func (t *Transport) initLive(l *live, c net.Conn, p *peer, addr string, side peerSide) {
	l.c, l.p, l.addr, l.inc, l.clock = c, p, addr, side.inc, side
	l.tick = max(t.cfg.TickTime, side.tick)
	every := t.tickInterval()
	l.limit = max(int((l.tick+every-1)/every), ticksPerTickTime)
	if side.tick != t.cfg.TickTime {
		t.log.Info("tick times differ: the connection uses the larger", "peer", addr,
			"ours", t.cfg.TickTime, "theirs", side.tick, "tick_time", l.tick)
	}
}

// silent takes the read count at a check and reports whether the peer has
// been silent for l.limit checks in a row.
func (l *live) silent(reads uint64) bool { return l.silentOf(reads, false) }

// silentOf is silent, where pair says whether another connection of the
// same address read something since its own last check (see "Per pair").
func (l *live) silentOf(reads uint64, pair bool) bool {
	if reads != l.seen || pair {
		l.seen = reads
		l.quiet.Store(0)
		return false
	}
	return int(l.quiet.Add(1)) >= max(l.limit, ticksPerTickTime)
}

// cut closes the connection with why as the reason it broke, unless it
// was cut already.
func (l *live) cut(why error) {
	if l.why.CompareAndSwap(nil, &why) && l.c != nil {
		_ = l.c.Close()
	}
}

// reason is why the connection broke: its cut's reason if it was cut,
// else err.
func (l *live) reason(err error) error {
	if w := l.why.Load(); w != nil {
		return *w
	}
	return err
}

// counting returns r, counting its reads for l.
func (l *live) counting(r io.Reader) io.Reader { return countingReader{r, &l.reads} }

type countingReader struct {
	r io.Reader
	n *atomic.Uint64
}

func (c countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	if n > 0 {
		c.n.Add(1)
	}
	return n, err
}

// drain reads what the listener writes on an outbound connection, ticks,
// until it fails, counting the reads.
func (l *live) drain(r io.Reader) error {
	var b [64]byte
	for {
		n, err := r.Read(b[:])
		if n > 0 {
			l.reads.Add(1)
		}
		if err != nil {
			return err
		}
	}
}

// isTick reports whether f, as decoded, is the empty frame of a tick.
func isTick(f *wire.Frame) bool {
	return f.Body == nil && f.From == nil && f.To == "" && len(f.ProtoReflect().GetUnknown()) == 0
}

// lives are the connections the watchdog checks.
type lives struct {
	mu  sync.Mutex
	set map[*live]struct{}
	// the watchdog's
	buf   []*live
	reads []uint64
	pairs map[string]pairState // by address, at one check
}

// pairState is what the connections of one address showed at a check.
type pairState struct {
	read bool // one of them read something since its previous check
	out  bool // one of them is outbound: this node's ticks go there
}

// watch starts checking l, and cuts the connections to l's address that a
// previous incarnation of its peer made or took.
func (t *Transport) watch(l *live) {
	var stale []*live
	t.lives.mu.Lock()
	if t.lives.set == nil {
		t.lives.set = map[*live]struct{}{}
	}
	for o := range t.lives.set {
		if o.addr == l.addr && o.inc != l.inc {
			stale = append(stale, o)
		}
	}
	t.lives.set[l] = struct{}{}
	t.lives.mu.Unlock()
	for _, o := range stale {
		t.log.Info("connection to an old incarnation", "peer", o.addr)
		o.cut(ErrRestarted)
	}
}

func (t *Transport) unwatch(l *live) {
	t.lives.mu.Lock()
	delete(t.lives.set, l)
	t.lives.mu.Unlock()
}

// tickInterval is how often ticks are sent and connections checked.
func (t *Transport) tickInterval() time.Duration {
	return max(t.cfg.TickTime/ticksPerTickTime, time.Millisecond)
}

// ticker is the watchdog's goroutine.
func (t *Transport) ticker() {
	defer t.wg.Done()
	tk := time.NewTicker(t.tickInterval())
	defer tk.Stop()
	for {
		select {
		case <-t.stop:
			return
		case <-tk.C:
			t.beat()
		}
	}
}

// beat checks every connection and ticks on those that live: per pair
// (see "Per pair"), a connection is quiet only if no connection of its
// address read anything, and an inbound one ticks only if its address
// has no outbound connection.
func (t *Transport) beat() {
	t.lives.mu.Lock()
	ls := t.lives.buf[:0]
	for l := range t.lives.set {
		ls = append(ls, l)
	}
	t.lives.mu.Unlock()
	if t.lives.pairs == nil {
		t.lives.pairs = map[string]pairState{}
	}
	pairs, reads := t.lives.pairs, t.lives.reads[:0]
	for _, l := range ls {
		r := l.reads.Load()
		reads = append(reads, r)
		ps := pairs[l.addr]
		ps.read = ps.read || r != l.seen
		ps.out = ps.out || l.p != nil
		pairs[l.addr] = ps
	}
	for i, l := range ls {
		ls[i] = nil
		ps := pairs[l.addr]
		if l.silentOf(reads[i], ps.read) {
			t.timedOut.Add(1)
			t.log.Info("peer silent", "peer", l.addr, "tick_time", l.tick)
			l.cut(fmt.Errorf("%w: nothing read for %v (tick time)", ErrPeerTimeout, l.tick))
			continue
		}
		if l.stalled {
			continue
		}
		if l.p != nil {
			if sent := l.p.framesSent(); sent != l.sent { // a frame went out since the last check
				l.sent = sent
				continue
			}
			l.p.tick()
			continue
		}
		if ps.out { // this node's ticks reach the peer on its outbound connection
			continue
		}
		// A write that would block means the dialer reads nothing: it is
		// soon cut, and until then the goroutine waits an interval once.
		_ = l.c.SetWriteDeadline(time.Now().Add(t.tickInterval()))
		_, err := l.c.Write(tickByte)
		l.stalled = err != nil
	}
	clear(pairs)
	t.lives.buf, t.lives.reads = ls[:0], reads[:0]
}

// framesSent is how many frames have been written to p's address.
func (p *peer) framesSent() uint64 {
	if p.stats == nil {
		return 0
	}
	return p.stats.framesOut.Load()
}

// tick asks p's writer for an empty frame unless a frame is queued or
// being written: those are on their way and make one.
func (p *peer) tick() {
	p.mu.Lock()
	due := !p.closed && !p.busy && len(p.queue) == 0
	p.tickDue = due
	p.mu.Unlock()
	if due {
		p.signal()
	}
}

// writeTick is the writer's part: it writes the empty frame asked for,
// unless frames came meanwhile.
func (p *peer) writeTick(w *bufio.Writer) error {
	p.mu.Lock()
	if !p.tickDue || p.busy || len(p.queue) > 0 {
		p.mu.Unlock()
		return nil
	}
	p.tickDue = false
	p.busy = true
	p.mu.Unlock()
	_, err := w.Write(emptyFrame[:])
	if err == nil {
		err = w.Flush()
	}
	p.mu.Lock()
	p.busy = false
	more := len(p.queue) > 0
	p.mu.Unlock()
	if more {
		p.signal()
	}
	return err
}

// emptyFrame is a tick from the dialer: a frame of no bytes.
var emptyFrame [4]byte
