package cluster

import (
	"context"
	"errors"
	"fmt"
)

// Locker hands out cluster-wide locks: at most one node of the cluster
// holds a key at a time. Both providers offer one (see Cluster.Locker):
// on Consul a KV lock under a session bound to the node's health check,
// on the embedded provider flock(2) on a file of a directory the nodes of
// one machine share. Package distapp builds distributed applications on
// it. Safe for concurrent use.
type Locker interface {
	// Lock blocks until this node holds key, or ctx ends (ctx's error).
	Lock(ctx context.Context, key string) (Lock, error)
	// TryLock takes key if no node holds it, else fails with ErrLocked.
	TryLock(ctx context.Context, key string) (Lock, error)
}

// Lock is a held lock. A node holds a key at most once: locking a key the
// node holds already waits (Lock) or fails (TryLock) as for another node.
type Lock interface {
	// Key is the key locked.
	Key() string
	// Lost is closed when the lock is no longer held: released by Unlock,
	// or lost — Consul ended its session (the node's check lapsed, the
	// node left or was deregistered), or this node could not renew its
	// check for LossBound and must assume another node may take the key
	// soon. The holder must stop what the lock protects at once.
	Lost() <-chan struct{}
	// Unlock releases the lock; the key is free for another node at once.
	// Unlocking a lost lock does nothing.
	Unlock(ctx context.Context) error
}

// LockProvider is implemented by providers that offer locks.
type LockProvider interface {
	// Locker returns a locker of the joined node. left is closed when the
	// node leaves the cluster: its locks are lost then.
	Locker(left <-chan struct{}) Locker
}

// Errors of locks; test with errors.Is.
var (
	// ErrLocked: TryLock found the key held.
	ErrLocked = errors.New("cluster: lock held")
	// ErrNoLocks: the provider offers no locks.
	ErrNoLocks = errors.New("cluster: provider offers no locks")
)

// Locker returns the locker of the cluster's provider, ErrNoLocks if it
// has none. Locks held when the node leaves are lost.
func (c *Cluster) Locker() (Locker, error) {
	lp, ok := c.prov.(LockProvider)
	if !ok {
		return nil, fmt.Errorf("%w: %T", ErrNoLocks, c.prov)
	}
	return lp.Locker(c.quit), nil
}

// validKey is validName for lock keys.
func validKey(key string) error {
	if !validName(key) {
		return fmt.Errorf("%w: lock key %q", ErrInvalidName, key)
	}
	return nil
}
