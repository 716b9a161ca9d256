package distapp

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/supervisor"
)

// Spec describes a distributed application: the application, the nodes
// that may run it by priority, and how it moves between them. Every node
// of Nodes starts it with the same Spec (Coordinator.Start).
type Spec struct {
	// Application runs on one node of Nodes at a time; its Start is told
	// why it starts (supervisor.StartType: Normal, Failover or Takeover,
	// and the node it came from). Its Name names it on every node.
	// Required.
	Application supervisor.Application
	// Restart is the application's restart type where it runs (see
	// supervisor.AppController); default Permanent: an instance whose tree
	// exits stops its node, and the application fails over.
	Restart supervisor.Restart
	// Nodes lists the nodes (their names, name@host) that may run the
	// application, by priority: the nodes of Nodes[0] first, then those of
	// Nodes[1], and so on; the nodes of one group have equal priority.
	// OTP's [a, {b, c}] is [][]string{{"a"}, {"b", "c"}}. Required; a
	// node appears once.
	Nodes [][]string
	// FailoverTimeout is how long the standbys wait, once they see the
	// application run nowhere (its node died or stopped), before one
	// starts it: OTP's Timeout. Default 0.
	FailoverTimeout time.Duration
	// SyncMandatory and SyncOptional are nodes of Nodes this node waits
	// for (until each has started its manager of the application)
	// before it takes part, for at most SyncTimeout: OTP's
	// sync_nodes_mandatory, sync_nodes_optional and sync_nodes_timeout.
	// If a mandatory node is still missing then, Coordinator.Start fails
	// with a *SyncError; missing optional nodes are not waited for longer.
	SyncMandatory, SyncOptional []string
	// SyncTimeout bounds the wait for the sync nodes; default 30 s when
	// either list is set.
	SyncTimeout time.Duration
	// Handover runs in a takeover on the node that gives the application
	// away, after the new instance on node to has started and before the
	// old instance stops: the place to hand state over (to the new
	// instance's exchange on to, say). Its error is logged; the old
	// instance stops either way. Optional. The new instance can also ask
	// the old one for its state in its Start: the old one runs until
	// Handover has returned.
	Handover func(ctx context.Context, n *actor.Node, to string) error
	// Stagger is how long a standby waits per rank before it tries to
	// start the application, so that the best standby starts it and the
	// others only if it does not: the standbys are ranked by priority,
	// then by how many distributed applications they run (fewest first),
	// then by name. Default 500 ms.
	Stagger time.Duration
	// TakeoverTimeout bounds a start of the application, and a takeover:
	// the new instance's start, the handover and the old instance's stop.
	// Default 30 s.
	TakeoverTimeout time.Duration
	// LostStopTimeout bounds the stop of the application when this node
	// loses its lock (see cluster.Lock.Lost): past it, its top supervisor
	// is killed. Another node can take the lock as soon as TTL after this
	// node's last renewal on Consul, and the loss is reported at
	// cluster.LossBound (TTL/2): keep LostStopTimeout well under TTL/2.
	// Default 500 ms.
	LostStopTimeout time.Duration
}

// Validate reports what is wrong with the spec, wrapping ErrInvalidSpec.
func (s Spec) Validate() error {
	if err := s.Application.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidSpec, err)
	}
	if !validName(s.Application.Name) {
		return fmt.Errorf("%w: application name %q (printable ASCII, no '/', no space)", ErrInvalidSpec, s.Application.Name)
	}
	seen := map[string]bool{}
	for _, g := range s.Nodes {
		if len(g) == 0 {
			return fmt.Errorf("%w: %q: empty node group", ErrInvalidSpec, s.Application.Name)
		}
		for _, n := range g {
			if n == "" || seen[n] {
				return fmt.Errorf("%w: %q: node %q empty or listed twice", ErrInvalidSpec, s.Application.Name, n)
			}
			seen[n] = true
		}
	}
	if len(seen) == 0 {
		return fmt.Errorf("%w: %q: no nodes", ErrInvalidSpec, s.Application.Name)
	}
	for _, n := range slices.Concat(s.SyncMandatory, s.SyncOptional) {
		if !seen[n] {
			return fmt.Errorf("%w: %q: sync node %q is not in Nodes", ErrInvalidSpec, s.Application.Name, n)
		}
	}
	if s.FailoverTimeout < 0 || s.SyncTimeout < 0 || s.Stagger < 0 || s.TakeoverTimeout < 0 || s.LostStopTimeout < 0 {
		return fmt.Errorf("%w: %q: negative duration", ErrInvalidSpec, s.Application.Name)
	}
	return nil
}

func (s *Spec) defaults() {
	if s.SyncTimeout == 0 && len(s.SyncMandatory)+len(s.SyncOptional) > 0 {
		s.SyncTimeout = 30 * time.Second
	}
	if s.Stagger == 0 {
		s.Stagger = 500 * time.Millisecond
	}
	if s.TakeoverTimeout == 0 {
		s.TakeoverTimeout = 30 * time.Second
	}
	if s.LostStopTimeout == 0 {
		s.LostStopTimeout = 500 * time.Millisecond
	}
}

// priority returns the index of node's group in nodes, or -1.
func priority(nodes [][]string, node string) int {
	for i, g := range nodes {
		if slices.Contains(g, node) {
			return i
		}
	}
	return -1
}

// validName: as the cluster's names (printable ASCII, no '/').
func validName(s string) bool {
	if s == "" || len(s) > 200 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' || s[i] == '/' {
			return false
		}
	}
	return true
}
