package cluster

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/consul/api"
)

// Locks on Consul.
//
// A lock is the KV key switchboard/<service>/locks/<key>, acquired with a
// session of its own bound to the node's TTL check (and to the agent's
// serfHealth), with the delete behaviour and a lock delay of
// consulLockDelay: when the node dies its check lapses within TTL, Consul
// ends the session and deletes the key, and another node can take it a
// few milliseconds later.
//
// While it holds a lock, the node renews its check itself every TTL/6 and
// reads the key back with a consistent read; a round that succeeds proves
// the check passes until at least TTL after the round began. If no round
// has succeeded for LossBound (TTL/2) — Consul is unreachable, or too
// slow — the lock is reported lost (Lost closes), so its holder stops
// what it protects at least TTL/2 before Consul could end the session and
// let another node take the key. The session itself is then destroyed as
// soon as Consul answers again.

// consulLockDelay is the lock delay of lock sessions: how long Consul
// keeps a key from being acquired after its session ended.
const consulLockDelay = 10 * time.Millisecond

// LossBound is how long a node that holds a lock on Consul and cannot
// renew its check waits before it reports the lock lost: half the check's
// TTL. Another node can take the key no sooner than TTL after the last
// renewal, so the holder has at least the other half of TTL to stop.
func LossBound(ttl time.Duration) time.Duration { return ttl / 2 }

func (c *consul) Locker(left <-chan struct{}) Locker { return &consulLocker{c: c, left: left} }

type consulLocker struct {
	c    *consul
	left <-chan struct{}
}

func (l *consulLocker) kvKey(key string) string {
	return "switchboard/" + l.c.cfg.Service + "/locks/" + key
}

func (l *consulLocker) Lock(ctx context.Context, key string) (Lock, error) {
	return l.lock(ctx, key, true)
}

func (l *consulLocker) TryLock(ctx context.Context, key string) (Lock, error) {
	return l.lock(ctx, key, false)
}

func (l *consulLocker) lock(ctx context.Context, key string, wait bool) (Lock, error) {
	if err := validKey(key); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	select {
	case <-l.left:
		return nil, ErrLeft
	default:
	}
	go func() { // end the attempt when the node leaves
		select {
		case <-l.left:
			cancel()
		case <-ctx.Done():
		}
	}()
	c := l.c
	sid, _, err := c.client.Session().Create(&api.SessionEntry{
		Name:          c.sessionName(), // destroyed with the others by the node's next incarnation
		Behavior:      api.SessionBehaviorDelete,
		LockDelay:     consulLockDelay,
		NodeChecks:    []string{"serfHealth"},
		ServiceChecks: []api.ServiceCheck{{ID: c.checkID}},
	}, (&api.WriteOptions{}).WithContext(ctx))
	if err != nil {
		return nil, l.fail(ctx, key, "create session", err)
	}
	held := false
	defer func() {
		if !held {
			dctx, dcancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer dcancel()
			_, _ = c.client.Session().Destroy(sid, (&api.WriteOptions{}).WithContext(dctx))
		}
	}()
	kv := l.kvKey(key)
	var idx uint64
	backoff := 50 * time.Millisecond
	for {
		sent := time.Now()
		if err := c.client.Agent().UpdateTTLOpts(c.checkID, "", api.HealthPassing, (&api.QueryOptions{}).WithContext(ctx)); err != nil {
			return nil, l.fail(ctx, key, "pass check", err)
		}
		ok, _, err := c.client.KV().Acquire(&api.KVPair{Key: kv, Value: []byte(c.self.Name), Session: sid}, (&api.WriteOptions{}).WithContext(ctx))
		if err != nil {
			return nil, l.fail(ctx, key, "acquire", err)
		}
		if ok {
			held = true
			return newConsulLock(l, key, kv, sid, sent), nil
		}
		if !wait {
			return nil, fmt.Errorf("%w: %q", ErrLocked, key)
		}
		// Held by another session, or free but in its lock delay: wait
		// for the key to change, or for the delay to pass.
		pair, meta, err := c.client.KV().Get(kv, (&api.QueryOptions{WaitIndex: idx, WaitTime: c.cfg.WaitTime}).WithContext(ctx))
		if err != nil {
			if ctx.Err() != nil {
				return nil, l.fail(ctx, key, "wait", err)
			}
			if !sleepCtx(ctx, backoff) {
				return nil, l.fail(ctx, key, "wait", ctx.Err())
			}
			backoff = min(2*backoff, time.Second)
			idx = 0
			continue
		}
		backoff = 50 * time.Millisecond
		if pair == nil || pair.Session == "" {
			if !sleepCtx(ctx, consulLockDelay) {
				return nil, l.fail(ctx, key, "wait", ctx.Err())
			}
		}
		idx = meta.LastIndex
	}
}

// fail wraps err: the context's error if it ended (or the node left),
// else ErrUnavailable.
func (l *consulLocker) fail(ctx context.Context, key, what string, err error) error {
	select {
	case <-l.left:
		return ErrLeft
	default:
	}
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("cluster: lock %q: %w", key, cerr)
	}
	return fmt.Errorf("%w: lock %q: %s: %w", ErrUnavailable, key, what, err)
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// consulLock is a held lock; its keeper goroutine renews the node's check,
// watches the key, and destroys the session once the lock is released or
// lost.
type consulLock struct {
	l            *consulLocker
	key, kv, sid string
	lost         chan struct{} // closed when the lock is no longer held
	unlock       chan struct{} // closed by Unlock
	unlockOnce   sync.Once
	done         chan struct{} // closed when the session is destroyed, or the node left
	mu           sync.Mutex
	destroyErr   error // the last failure to destroy the session
}

func newConsulLock(l *consulLocker, key, kv, sid string, base time.Time) *consulLock {
	lk := &consulLock{l: l, key: key, kv: kv, sid: sid,
		lost: make(chan struct{}), unlock: make(chan struct{}), done: make(chan struct{})}
	go lk.keep(base)
	return lk
}

func (lk *consulLock) Key() string           { return lk.key }
func (lk *consulLock) Lost() <-chan struct{} { return lk.lost }

// Unlock stops the keeper and destroys the session, which deletes the key.
// If Consul cannot be reached before ctx ends, the keeper goes on trying
// until it can, or the node leaves; the lock is released either way (Lost
// is closed) as far as this node is concerned.
func (lk *consulLock) Unlock(ctx context.Context) error {
	select {
	case <-lk.lost:
		return nil // lost already: the keeper destroys the session when it can
	default:
	}
	lk.unlockOnce.Do(func() { close(lk.unlock) })
	select {
	case <-lk.done:
		lk.mu.Lock()
		defer lk.mu.Unlock()
		return lk.destroyErr
	case <-ctx.Done():
		<-lk.lost
		lk.mu.Lock()
		defer lk.mu.Unlock()
		if lk.destroyErr != nil {
			return fmt.Errorf("%w: unlock %q: %w", ErrUnavailable, lk.key, lk.destroyErr)
		}
		return fmt.Errorf("cluster: unlock %q: %w", lk.key, ctx.Err())
	}
}

func (lk *consulLock) keep(base time.Time) {
	defer close(lk.done)
	lk.hold(base)
	close(lk.lost)
	lk.destroy()
}

// hold renews and watches until the lock is lost or unlocked.
func (lk *consulLock) hold(base time.Time) {
	c := lk.l.c
	bound, every := LossBound(c.cfg.TTL), c.cfg.TTL/6
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		select {
		case <-lk.unlock:
		case <-lk.l.left:
		case <-stop:
			return
		}
		cancel()
	}()
	log := c.log.With("lock", lk.key)
	var idx uint64
	for {
		deadline := base.Add(bound)
		if !time.Now().Before(deadline) {
			log.Warn("lock lost: consul not reached within the loss bound", "bound", bound)
			return
		}
		rctx, rcancel := context.WithDeadline(ctx, deadline)
		sent := time.Now()
		err := c.client.Agent().UpdateTTLOpts(c.checkID, "", api.HealthPassing, (&api.QueryOptions{}).WithContext(rctx))
		var pair *api.KVPair
		var meta *api.QueryMeta
		if err == nil {
			// Returns at once if the key changed since idx, else after
			// up to every: the round's wait.
			pair, meta, err = c.client.KV().Get(lk.kv, (&api.QueryOptions{WaitIndex: idx, WaitTime: every, RequireConsistent: true}).WithContext(rctx))
		}
		rcancel()
		if ctx.Err() != nil {
			return // unlocked, or the node left
		}
		if err != nil {
			log.Debug("lock renewal failed", "err", err)
			wait := min(every/4, time.Until(deadline))
			if wait > 0 {
				select {
				case <-ctx.Done():
					return
				case <-time.After(wait):
				}
			}
			continue
		}
		if pair == nil || pair.Session != lk.sid {
			log.Warn("lock lost: consul ended its session")
			return
		}
		base, idx = sent, meta.LastIndex
	}
}

// destroy ends the session, deleting the key if the session still held
// it, retrying until Consul answers or the node leaves.
func (lk *consulLock) destroy() {
	c := lk.l.c
	backoff := 50 * time.Millisecond
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := c.client.Session().Destroy(lk.sid, (&api.WriteOptions{}).WithContext(ctx))
		cancel()
		lk.mu.Lock()
		lk.destroyErr = err
		lk.mu.Unlock()
		if err == nil {
			return
		}
		select {
		case <-lk.l.left:
			return // Leave deregisters the node's check, which ends the session
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}
