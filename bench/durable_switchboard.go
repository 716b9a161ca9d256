package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/exchange/tasks"
	"github.com/switchboard-go/switchboard/patterns"
	"github.com/switchboard-go/switchboard/supervisor"
)

// Switchboard's durable queue: exchange/tasks with Spec.Dir (one node) or
// Spec.Replica (a hashicorp/raft group of this node and two standbys, each
// an OS process), producers with patterns.Tasks.SubmitAsync, workers
// patterns.Worker acking each delivery, all in the client's process (the
// queue's node), as the one-node topology of the seed's shapes.

const durableQueue = "tasks"

// replicaPeers parses SEEDBENCH_PEERS, "name=node address=raft address,…"
// (distapp's tasks_process_test.go passes its peers the same way), and
// returns the peers and this node's (name's) two addresses.
func replicaPeers(spec, name string) (peers []tasks.ReplicaPeer, listen, bind string, err error) {
	for _, p := range strings.Split(spec, ",") {
		f := strings.Split(p, "=")
		if len(f) != 3 {
			return nil, "", "", fmt.Errorf("%s: %q is not name=node=raft", envPeers, p)
		}
		peers = append(peers, tasks.ReplicaPeer{Node: f[1], Raft: f[2]})
		if f[0] == name {
			listen, bind = f[1], f[2]
		}
	}
	if listen == "" {
		return nil, "", "", fmt.Errorf("%s has no %q", envPeers, name)
	}
	return peers, listen, bind, nil
}

// openReplica starts the node name of the group in SEEDBENCH_PEERS and
// opens its replica of the queue in a directory under dir.
func openReplica(ctx context.Context, name, dir string) (*actor.Node, *tasks.Replica, error) {
	peers, listen, bind, err := replicaPeers(os.Getenv(envPeers), name)
	if err != nil {
		return nil, nil, err
	}
	n, err := startNode(name+"@localhost", listen)
	if err != nil {
		return nil, nil, err
	}
	// Raft's timeouts as exchange/tasks' replica tests have them on a
	// loaded machine: a busy core must not cost the leader its lead.
	r, err := tasks.OpenReplica(ctx, n, tasks.ReplicaConfig{Group: durableQueue, Dir: filepath.Join(dir, name), Bind: bind,
		Peers: peers, HeartbeatTimeout: 2 * time.Second, ElectionTimeout: 2 * time.Second, Logger: quietLogger()})
	if err != nil {
		stopNode(n)
		return nil, nil, err
	}
	return n, r, nil
}

type sbDurable struct {
	node     *actor.Node
	replica  *tasks.Replica
	producer *patterns.Tasks
	ex       exchange.Address
}

// newSwitchboardDurable starts the queue, durable in a directory under
// dir or, with replicated, on the replica group of SEEDBENCH_PEERS
// (this node "a" of it), and workers that ack into acks.
func newSwitchboardDurable(ctx context.Context, dir string, replicated bool, workers, prefetch int, acks *ackCounter) (durableTarget, error) {
	t := &sbDurable{ex: exchange.Named(durableQueue)}
	spec := tasks.Spec{Name: durableQueue, MaxQueue: tasks.Unlimited}
	var err error
	if replicated {
		if t.node, t.replica, err = openReplica(ctx, "a", dir); err != nil {
			return nil, err
		}
		spec.Replica = t.replica
	} else {
		if t.node, err = startNode("one@localhost", ""); err != nil {
			return nil, err
		}
		spec.Dir = filepath.Join(dir, "queue")
	}
	// Under a supervisor, as in a distributed application (distapp's
	// tasks_process_test.go): a replicated queue that loses the Raft lead
	// stops, and is started again to take it back; the shape running then
	// fails with the producers' error, the next ones find the queue again.
	if _, err := supervisor.Start(ctx, t.node, supervisor.Spec{Strategy: supervisor.OneForOne,
		Children: []supervisor.ChildSpec{tasks.ChildSpec(spec)}}); err != nil {
		t.close()
		return nil, err
	}
	for range workers {
		w := patterns.NewWorker(t.ex, prefetch, func(w *patterns.Worker, task *tasks.Task) {
			_ = w.Ack(task.Tag)
			acks.acked()
		})
		joined := make(chan struct{})
		w.OnEvent = closeOnFirst[*tasks.WorkerJoined](joined)
		if _, err := t.node.Spawn(ctx, w); err != nil {
			t.close()
			return nil, err
		}
		select {
		case <-joined:
		case <-ctx.Done():
			t.close()
			return nil, fmt.Errorf("a worker did not join %s: %w", durableQueue, ctx.Err())
		}
	}
	t.producer = patterns.NewTasks(t.node)
	return t, nil
}

func (t *sbDurable) newProducer() (producer, error) { return sbProducer{t}, nil }

func (t *sbDurable) close() {
	if t.replica != nil { // the replica first, as distapp's tasks_process_test.go
		_ = t.replica.Close()
	}
	stopNode(t.node)
}

type sbProducer struct{ t *sbDurable }

func (sbProducer) close() {}

func (p sbProducer) submit(ctx context.Context, body []byte) (confirm, error) {
	c, err := p.t.producer.SubmitAsync(ctx, p.t.ex, wrapperspb.Bytes(body))
	if err != nil {
		return nil, err
	}
	return sbConfirm{c}, nil
}

type sbConfirm struct{ c *patterns.Confirm }

func (c sbConfirm) wait(context.Context) error { return c.c.Wait() }

// runStandby is a standby of the replicated queue: a node with its
// replica, until the harness closes stdin.
func runStandby(ctx context.Context, name, dir string) (func(), error) {
	n, r, err := openReplica(ctx, name, dir)
	if err != nil {
		return nil, err
	}
	return func() {
		_ = r.Close()
		stopNode(n)
	}, nil
}

// freeAddrs returns n loopback addresses whose ports were free a moment
// ago.
func freeAddrs(n int) ([]string, error) {
	var out []string
	for range n {
		p, err := freePort()
		if err != nil {
			return nil, err
		}
		out = append(out, net.JoinHostPort("127.0.0.1", fmt.Sprint(p)))
	}
	return out, nil
}
