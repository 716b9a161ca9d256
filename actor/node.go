package actor

import (
	"cmp"
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-go/switchboard/internal/transport"
)

// Config configures a Node. The zero value is a valid local-only node.
type Config struct {
	// Name is the node's name, name@host as in Erlang; default nonode@nohost.
	Name string
	// Listen is host:port for the remote transport (port 0 picks a free
	// one). Empty: the node is local-only and cannot talk to other nodes.
	Listen string
	// CallTimeout bounds a Call whose context has no deadline; default 5 s.
	CallTimeout time.Duration
	// Logger receives crash reports and node events; default: warnings and
	// errors to stderr.
	Logger *slog.Logger
	// MaxFrameSize bounds one frame between nodes; default 64 MiB.
	MaxFrameSize int
	// Cookie is the cluster's shared secret, as Erlang's cookie: nodes talk
	// only if they hold the same one, proved by a challenge-response when a
	// connection opens, never sent. Nothing from a node with another cookie
	// is delivered, and calls to it fail with ErrNodeDown. Empty on every
	// node: no check; empty on one side only: refused.
	Cookie string
	// TLS, if set, encrypts every connection between nodes, accepting and
	// dialing with this config: Certificates is the node's certificate (as
	// a server and as a client), RootCAs the authorities it trusts for the
	// nodes it dials, and ClientCAs with ClientAuth set to
	// tls.RequireAndVerifyClientCert makes it mutual. The server name
	// checked when dialing is the peer's host unless ServerName is set. A
	// node without TLS cannot talk to one with it.
	TLS *tls.Config
	// TickTime bounds how long another node may stay silent, as Erlang's
	// net_ticktime: every connection ticks both ways every TickTime/4 when
	// idle, and a node from which nothing came for TickTime (stopped with
	// SIGSTOP, a stalled VM, a cable pulled) is declared down within
	// TickTime + TickTime/4: its links break, its monitors fire and calls
	// waiting on it fail, with ErrNodeDown. Default 4 s. Nodes say their
	// TickTime when they connect, and a connection between two that differ
	// uses the larger on both ends (logged at info level): a node is then
	// declared down within the larger + TickTime/4, and never for a
	// silence shorter than its own ticks.
	TickTime time.Duration
	// Dial, if set, opens the connections to other nodes (and the
	// dialbacks that confirm the nodes that connect) in place of a TCP dial
	// of their address: a tunnel, or a test's proxy that cuts the link
	// between two nodes (internal/linkproxy, used by make soak). The
	// address is the one the other node listens on, as its PIDs carry it;
	// TLS and the handshake run over what Dial returns. Default: a TCP
	// dial.
	Dial func(ctx context.Context, addr string) (net.Conn, error)
	// Limits bound what other nodes can make this one hold: connections in
	// their handshake, frames being read, messages queued for a node that
	// does not read them. See Limits.
	Limits
}

// Node is one actor system: it spawns processes, routes messages to local and
// remote processes, and owns every goroutine it starts.
type Node struct {
	cfg  Config
	log  *slog.Logger
	disp *dispatcher
	tr   *transport.Transport
	addr string
	self *PID // the node's own pseudo-PID: the sender of node-level calls and exit signals
	halt *PID // the sender of Stop's shutdown signals, which end even processes that trap exits

	procs      sync.Map      // process id -> *Process
	values     sync.Map      // SetValue's attachments
	ids        atomic.Uint64 // the last process id's number; see incarnation
	closed     chan struct{} // closed: Process.Done of one that exited before anyone asked
	refs       atomic.Uint64
	pending    pendingTable
	forwards   forwardLog // calls forwarded to other nodes, answered if those go down
	names      registry
	spawnables spawnables
	stats      nodeStats
	epoch      time.Time
	sweepers   sync.WaitGroup
	quit       chan struct{} // closed by Stop: ends the sweeper
	stopping   atomic.Bool
	spawning   sync.RWMutex // spawns hold it for reading until their process is findable
	stopOnce   sync.Once
	stopErr    error
	done       chan struct{}
}

type nodeStats struct {
	badFrames      atomic.Uint64
	crashes        atomic.Uint64
	spoofed        atomic.Uint64
	repliesDropped atomic.Uint64
	mailboxFull    atomic.Uint64
	repliesLost    atomic.Uint64
	spawned        atomic.Uint64
	spawnsRefused  atomic.Uint64
}

// Start creates a node and, if cfg.Listen is set, starts its transport.
func Start(cfg Config) (*Node, error) {
	if cfg.Name == "" {
		cfg.Name = "nonode@nohost"
	}
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	n := &Node{
		cfg:    cfg,
		log:    cfg.Logger.With("node", cfg.Name),
		done:   make(chan struct{}),
		quit:   make(chan struct{}),
		closed: make(chan struct{}),
		epoch:  time.Now(),
	}
	close(n.closed)
	n.pending.init()
	n.names.init()
	n.addr = "local:" + cfg.Name
	inc := n.incarnation()
	if cfg.Listen != "" {
		tr, err := transport.Listen(transport.Config{
			Listen:       cfg.Listen,
			Node:         cfg.Name,
			Cookie:       cfg.Cookie,
			TLS:          cfg.TLS,
			Handler:      n.receiveFrame,
			PeerDown:     n.peerDown,
			MaxFrameSize: cfg.MaxFrameSize,
			Logger:       n.log,
			TickTime:     cfg.TickTime,
			Incarnation:  inc,
			Epoch:        n.epoch,
			Dial:         cfg.Dial,
			Limits:       cfg.Limits.transport(),
		})
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrTransport, err)
		}
		n.tr = tr
		n.addr = tr.Addr()
	}
	n.disp = newDispatcher()
	n.self = NewPID(n.addr, nodeID)
	n.halt = NewPID(n.addr, haltID)
	n.sweepers.Add(1)
	go n.sweep()
	return n, nil
}

// clock is the node's monotonic time in nanoseconds.
func (n *Node) clock() int64 { return int64(time.Since(n.epoch)) }

// sweep fails calls that outlived CallTimeout, for callers whose context has
// no deadline: one goroutine per node instead of a timer per call.
func (n *Node) sweep() {
	defer n.sweepers.Done()
	tick := time.NewTicker(max(min(n.cfg.CallTimeout/10, 50*time.Millisecond), time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-n.quit:
			return
		case <-tick.C:
			n.pending.expire(n.clock(), fmt.Errorf("%w: no reply within %v", ErrTimeout, n.cfg.CallTimeout))
		}
	}
}

// Name returns the node's name.
func (n *Node) Name() string { return n.cfg.Name }

// Address returns the node's transport address (host:port), or
// "local:"+name for a node without transport.
func (n *Node) Address() string { return n.addr }

// Logger returns the node's logger.
func (n *Node) Logger() *slog.Logger { return n.log }

// Done is closed when the node has stopped.
func (n *Node) Done() <-chan struct{} { return n.done }

// Stop shuts the node down: top-level processes get an ErrShutdown exit
// signal in reverse order of spawning (supervisors stop their own children),
// each is awaited, processes still alive when ctx ends are killed, then the
// transport and the actor system stop. Stop returns when all of that is done;
// its error is ctx's if processes had to be killed or a handler was still
// running when ctx ended. Later calls return the first result.
func (n *Node) Stop(ctx context.Context) error {
	n.stopOnce.Do(func() {
		n.stopping.Store(true)
		n.spawning.Lock() // no spawn in flight from here on
		n.spawning.Unlock()
		n.stopErr = n.shutdownProcesses(ctx)
		if n.tr != nil {
			_ = n.tr.Close()
		}
		n.disp.close()
		close(n.quit)
		n.sweepers.Wait()
		n.pending.watches.close()
		n.pending.failAll(ErrNodeStopped)
		if err := n.disp.wait(ctx); err != nil && n.stopErr == nil {
			n.stopErr = fmt.Errorf("actor: a handler did not return: %w", err)
		}
		close(n.done)
	})
	return n.stopErr
}

func (n *Node) shutdownProcesses(ctx context.Context) error {
	var roots []*Process
	n.procs.Range(func(_, v any) bool {
		if p := v.(*Process); p.parent == nil {
			roots = append(roots, p)
		}
		return true
	})
	slices.SortFunc(roots, func(a, b *Process) int { return cmp.Compare(b.seq, a.seq) })
	var err error
	for _, p := range roots {
		n.exitSignal(n.halt, p.pid, ErrShutdown, false)
		select {
		case <-p.Done():
		case <-ctx.Done():
			err = ctx.Err()
		}
		if err != nil {
			break
		}
	}
	// Whatever is left (orphans, or everything after ctx ended) is killed.
	n.procs.Range(func(_, v any) bool {
		v.(*Process).kill(ErrKilled)
		return true
	})
	return err
}

func (n *Node) isLocal(pid *PID) bool { return pid.Address == n.addr }

func (n *Node) local(pid *PID) *Process {
	if pid == nil || pid.Address != n.addr {
		return nil
	}
	if p := n.procByID(pid.Id); p != nil && !p.dead.Load() {
		return p
	}
	return nil // an exited process stays in the table while finish tells its links
}

// procByID finds a live local process by id, or by name for the ids of
// NamedPID.
func (n *Node) procByID(id string) *Process {
	if name, ok := strings.CutPrefix(id, namedPrefix); ok {
		return n.names.lookup(name) // no process id starts so: one look-up, not a miss and then the name
	}
	if v, ok := n.procs.Load(id); ok {
		return v.(*Process)
	}
	return nil
}

// namedPrefix marks the process ids of NamedPID; processID's start with
// "$".
const namedPrefix = "@"

// NamedPID addresses whatever process is registered as name on the node at
// address, as Erlang's {Name, Node}: the name is resolved on that node when
// each message arrives, so the PID keeps working across restarts of the
// process that holds the name. Calls, sends and monitors accept it; links
// accept it on the local node only (link to a remote process by its PID).
func NamedPID(address, name string) *PID { return NewPID(address, namedPrefix+name) }

func (n *Node) newRef() Ref { return Ref(n.refs.Add(1)) }
