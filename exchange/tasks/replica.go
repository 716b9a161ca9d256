package tasks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"go.etcd.io/bbolt"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
)

// ErrNotLeader is a replicated queue's error when its node's replica does
// not lead its Raft group (it could not take the lead at start, or lost
// it: a minority partition): nothing is confirmed there.
var ErrNotLeader = errors.New("tasks: the queue's replica does not lead its Raft group")

// ReplicaPeer is one member of a replica group: the actor node's address
// (its Raft server id) and its Raft TCP address.
type ReplicaPeer struct {
	Node string
	Raft string
}

// ReplicaConfig configures a node's replica of one durable queue.
type ReplicaConfig struct {
	// Group names the group; the queue's name, one group per queue.
	Group string
	// Dir holds the Raft log, its stable store (bbolt) and snapshots.
	Dir string
	// Listener, if set, is the Raft TCP listener; otherwise Bind is
	// listened on.
	Listener net.Listener
	Bind     string
	// Peers are every member, this node included. A group with no state
	// yet is bootstrapped with them (the same list on every node).
	Peers []ReplicaPeer
	// KeyWindow is how long keys are kept in the replica's snapshots;
	// default DefaultDedupWindow. Make it the queue's DedupWindow.
	KeyWindow time.Duration
	// HeartbeatTimeout and ElectionTimeout, default 1 s (Raft's).
	HeartbeatTimeout, ElectionTimeout time.Duration
	Logger                            *slog.Logger
}

// Replica is a node's member of a durable queue's Raft group
// (github.com/hashicorp/raft): it applies the queue's records to a copy of
// its state on every node. Open it on every node of the queue's
// distributed application and keep it open across the queue's restarts;
// the queue runs with Spec.Replica on the lock holder, takes the Raft lead
// and confirms a task once a majority stored it.
type Replica struct {
	cfg   ReplicaConfig
	node  *actor.Node
	raft  *raft.Raft
	fsm   *replicaFSM
	bolt  *raftboltdb.BoltStore
	trans *raft.NetworkTransport
	proc  *actor.PID

	queue     atomic.Pointer[actor.PID] // the queue leading with this member, if one does
	active    atomic.Int32              // queues on this member taking or holding the lead
	lastYield atomic.Int64              // when this member was last asked to hand the lead over (UnixNano)
}

// replicaName is the registered name of the process that hands the lead
// to another member on request.
func replicaName(group string) string { return "switchboard:tasks.replica:" + group }

// OpenReplica opens (or creates) the node's replica of cfg.Group.
func OpenReplica(ctx context.Context, n *actor.Node, cfg ReplicaConfig) (*Replica, error) {
	if cfg.Group == "" || cfg.Dir == "" || len(cfg.Peers) == 0 {
		return nil, fmt.Errorf("%w: a replica needs Group, Dir and Peers", ErrStore)
	}
	if cfg.KeyWindow <= 0 {
		cfg.KeyWindow = DefaultDedupWindow
	}
	if cfg.Logger == nil {
		cfg.Logger = n.Logger()
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrStore, err)
	}
	ln := cfg.Listener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", cfg.Bind); err != nil {
			return nil, fmt.Errorf("%w: raft listener: %w", ErrStore, err)
		}
	}
	logw := slogWriter{cfg.Logger.With("raft", cfg.Group)}
	r := &Replica{cfg: cfg, node: n, fsm: newReplicaFSM(cfg.KeyWindow)}
	r.trans = raft.NewNetworkTransport(tcpLayer{ln}, 3, 10*time.Second, logw)
	fail := func(err error) (*Replica, error) {
		_ = r.trans.Close()
		if r.bolt != nil {
			_ = r.bolt.Close()
		}
		return nil, fmt.Errorf("%w: %w", ErrStore, err)
	}
	// The freelist is not written at each commit (bbolt rebuilds it at
	// open, as Consul has it): each Raft write is the log's pages and the
	// meta page.
	bolt, err := raftboltdb.New(raftboltdb.Options{Path: filepath.Join(cfg.Dir, "raft.db"),
		BoltOptions: &bbolt.Options{Timeout: time.Second, NoFreelistSync: true, FreelistType: bbolt.FreelistMapType}})
	if err != nil {
		return fail(err)
	}
	r.bolt = bolt
	snaps, err := raft.NewFileSnapshotStore(cfg.Dir, 2, logw)
	if err != nil {
		return fail(err)
	}
	logs, err := raft.NewLogCache(4096, bolt)
	if err != nil {
		return fail(err)
	}
	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(n.Address())
	rc.Logger = hclog.New(&hclog.LoggerOptions{Name: "raft", Level: hclog.Warn, Output: logw})
	rc.MaxAppendEntries = 256
	if cfg.HeartbeatTimeout > 0 {
		rc.HeartbeatTimeout = cfg.HeartbeatTimeout
		rc.LeaderLeaseTimeout = cfg.HeartbeatTimeout / 2
	}
	if cfg.ElectionTimeout > 0 {
		rc.ElectionTimeout = cfg.ElectionTimeout
	}
	has, err := raft.HasExistingState(logs, bolt, snaps)
	if err != nil {
		return fail(err)
	}
	if r.raft, err = raft.NewRaft(rc, r.fsm, logs, bolt, snaps, r.trans); err != nil {
		return fail(err)
	}
	if !has {
		var c raft.Configuration
		for _, p := range cfg.Peers {
			c.Servers = append(c.Servers, raft.Server{Suffrage: raft.Voter, ID: raft.ServerID(p.Node), Address: raft.ServerAddress(p.Raft)})
		}
		if err := r.raft.BootstrapCluster(c).Error(); err != nil && !errors.Is(err, raft.ErrCantBootstrap) {
			_ = r.raft.Shutdown().Error()
			return fail(err)
		}
	}
	r.proc, err = n.Spawn(ctx, &replicaServer{r: r}, actor.WithName(replicaName(cfg.Group)))
	if err != nil {
		_ = r.raft.Shutdown().Error()
		return fail(err)
	}
	return r, nil
}

// Close leaves the group's work to the others: it stops this node's
// member (its state stays in Dir).
func (r *Replica) Close() error {
	_ = r.node.StopProcess(context.Background(), r.proc, nil)
	err := r.raft.Shutdown().Error()
	_ = r.trans.Close()
	if e := r.bolt.Close(); err == nil {
		err = e
	}
	return err
}

// Leader is the node address of the group's leader, "" if none is known.
func (r *Replica) Leader() string {
	_, id := r.raft.LeaderWithID()
	return string(id)
}

// IsLeader says whether this node's member leads the group.
func (r *Replica) IsLeader() bool { return r.raft.State() == raft.Leader }

// Term is the group's Raft term as this member knows it: it grows by one
// at each election and each hand-over of the lead, so two readings count
// how often the lead moved (at most) in between.
func (r *Replica) Term() uint64 { return r.raft.CurrentTerm() }

// lead makes this node's member the leader, asking the current leader to
// hand over, and waits until every entry committed before is applied
// here. It is how the queue (on the distributed application's lock
// holder) and the Raft leader are kept together.
func (r *Replica) lead(ctx context.Context) error {
	self := r.node.Address()
	obs := make(chan raft.Observation, 8)
	o := raft.NewObserver(obs, false, func(o *raft.Observation) bool {
		_, ok := o.Data.(raft.LeaderObservation)
		return ok
	})
	r.raft.RegisterObserver(o)
	defer r.raft.DeregisterObserver(o)
	var last error
	for r.raft.State() != raft.Leader {
		leader := r.Leader()
		if leader != "" && leader != self {
			cctx, cancel := context.WithTimeout(ctx, 2*r.raft.ReloadableConfig().ElectionTimeout+time.Second)
			_, last = r.node.Call(cctx, actor.NamedPID(leader, replicaName(r.cfg.Group)), wrapperspb.String(self))
			cancel()
		}
		t := time.NewTimer(250 * time.Millisecond) // a missed observation, or a leader that could not hand over yet
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w: %w (state %v, leader %q, last hand-over: %v)", ErrNotLeader, ctx.Err(), r.raft.State(), leader, last)
		case <-obs:
		case <-t.C:
		}
		t.Stop()
	}
	if err := r.raft.Barrier(time.Until(deadlineOr(ctx, 10*time.Second))).Error(); err != nil {
		return fmt.Errorf("%w: %w", ErrNotLeader, err)
	}
	return nil
}

func deadlineOr(ctx context.Context, d time.Duration) time.Time {
	if t, ok := ctx.Deadline(); ok {
		return t
	}
	return time.Now().Add(d)
}

// replicaServer hands the lead to the member that asks for it (the node
// where the queue now runs).
type replicaServer struct {
	actor.BaseServer
	r *Replica
}

func (s *replicaServer) HandleCall(_ *actor.Process, msg any) (any, error) {
	r := s.r
	switch m := msg.(type) {
	case *wrapperspb.BoolValue: // a yielded member asks: does a queue run here?
		return wrapperspb.Bool(r.active.Load() > 0), nil
	case *wrapperspb.StringValue:
		return r.handOver(m.GetValue())
	}
	return nil, fmt.Errorf("%w: %T", exchange.ErrBadRequest, msg)
}

// handOver hands the lead to member to: its queue is starting (the
// distributed application runs there now). The queue here yields first:
// it confirms nothing from then on, and what it confirmed is committed
// before the lead moves.
func (r *Replica) handOver(to string) (any, error) {
	if r.raft.State() != raft.Leader {
		return nil, ErrNotLeader
	}
	cfg := r.raft.GetConfiguration()
	if err := cfg.Error(); err != nil {
		return nil, err
	}
	for _, sv := range cfg.Configuration().Servers {
		if string(sv.ID) != to {
			continue
		}
		r.lastYield.Store(time.Now().UnixNano())
		if q := r.queue.Load(); q != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_, err := r.node.Call(ctx, q, yieldTo{to: to})
			cancel()
			if err != nil {
				r.cfg.Logger.Warn("replicated task queue did not yield; handing the lead over anyway", "group", r.cfg.Group, "to", to, "err", err)
			}
		}
		if err := r.raft.LeadershipTransferToServer(sv.ID, sv.Address).Error(); err != nil {
			return nil, err
		}
		return &wrapperspb.StringValue{}, nil
	}
	return nil, fmt.Errorf("%w: %q is no member", exchange.ErrBadRequest, to)
}

// tcpLayer is raft's stream layer on a TCP listener.
type tcpLayer struct{ net.Listener }

func (l tcpLayer) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	return net.DialTimeout("tcp", string(addr), timeout)
}

// slogWriter writes raft's log lines to slog.
type slogWriter struct{ l *slog.Logger }

func (w slogWriter) Write(p []byte) (int, error) {
	w.l.Warn(strings.TrimSpace(string(p)))
	return len(p), nil
}

var _ io.Writer = slogWriter{}
