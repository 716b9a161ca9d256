package cluster_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/cluster"
	"github.com/switchboard-go/switchboard/internal/consultest"
)

func TestEmbeddedLocks(t *testing.T) {
	dir := t.TempDir()
	locks(t, providerKind{"embedded", func(_ testing.TB, seed string) cluster.Provider {
		var seeds []string
		if seed != "" {
			seeds = []string{seed}
		}
		return cluster.Embedded(cluster.EmbeddedConfig{Seeds: seeds, Interval: 100 * time.Millisecond, LockDir: dir})
	}})
}

func TestConsulLocks(t *testing.T) { locks(t, consulKind(t, 2*time.Second)) }

func locker(t *testing.T, j *joined) cluster.Locker {
	t.Helper()
	l, err := j.c.Locker()
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// locks: one holder at a time; Lock waits for Unlock; a node that leaves
// loses its locks and the key is free at once.
func locks(t *testing.T, k providerKind) {
	a := join(t, startNode(t, "a@test"), k.make(t, ""))
	b := join(t, startNode(t, "b@test"), k.make(t, a.n.Address()))
	la, lb := locker(t, a), locker(t, b)

	if _, err := la.TryLock(ctxT(t, 5*time.Second), "bad/key"); !errors.Is(err, cluster.ErrInvalidName) {
		t.Fatalf("TryLock of an invalid key: %v", err)
	}
	lk, err := la.TryLock(ctxT(t, 5*time.Second), "app:x")
	if err != nil {
		t.Fatal(err)
	}
	if lk.Key() != "app:x" || isClosed(lk.Lost()) {
		t.Fatalf("fresh lock: key %q, lost %v", lk.Key(), isClosed(lk.Lost()))
	}
	if _, err := lb.TryLock(ctxT(t, 5*time.Second), "app:x"); !errors.Is(err, cluster.ErrLocked) {
		t.Fatalf("TryLock of a held key from another node: %v", err)
	}
	if _, err := la.TryLock(ctxT(t, 5*time.Second), "app:x"); !errors.Is(err, cluster.ErrLocked) {
		t.Fatalf("TryLock of a held key from its holder: %v", err)
	}
	other, err := lb.TryLock(ctxT(t, 5*time.Second), "app:y")
	if err != nil {
		t.Fatalf("another key: %v", err)
	}
	if _, err := lb.Lock(ctxT(t, 300*time.Millisecond), "app:x"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lock of a held key past its context: %v", err)
	}

	// Lock waits for the holder's Unlock.
	got := make(chan cluster.Lock, 1)
	go func() {
		l, err := lb.Lock(ctxT(t, 10*time.Second), "app:x")
		if err != nil {
			t.Error(err)
		}
		got <- l
	}()
	unlocked := time.Now()
	if err := lk.Unlock(ctxT(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if !isClosed(lk.Lost()) {
		t.Fatal("Lost not closed after Unlock")
	}
	var lk2 cluster.Lock
	select {
	case lk2 = <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("Lock did not return after the holder's Unlock")
	}
	if lk2 == nil {
		t.FailNow()
	}
	t.Logf("%s: Unlock to the waiter's Lock: %v", k.name, time.Since(unlocked))
	if err := lk.Unlock(ctxT(t, time.Second)); err != nil {
		t.Fatalf("second Unlock: %v", err)
	}

	// b leaves: its locks are lost, and a takes the key at once.
	if err := b.c.Leave(ctxT(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	for _, l := range []cluster.Lock{lk2, other} {
		select {
		case <-l.Lost():
		case <-time.After(5 * time.Second):
			t.Fatalf("lock %s not lost after Leave", l.Key())
		}
	}
	if _, err := lb.TryLock(ctxT(t, time.Second), "app:z"); !errors.Is(err, cluster.ErrLeft) {
		t.Fatalf("TryLock after Leave: %v", err)
	}
	lk3, err := la.Lock(ctxT(t, 5*time.Second), "app:x")
	if err != nil {
		t.Fatalf("lock after the holder left: %v", err)
	}
	if err := lk3.Unlock(ctxT(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
}

// A node that cannot reach Consul reports its lock lost within the loss
// bound (TTL/2), before Consul ends its session (TTL after its last
// renewal) and another node takes the key — which happens, once the TTL
// has lapsed.
func TestConsulLockLostWhenCutOff(t *testing.T) {
	agent := consultest.Start(t)
	proxy := consultest.NewProxy(t, agent.Addr)
	const ttl = 2 * time.Second
	service := "sb-" + t.Name()
	cut := join(t, startNode(t, "cut@test"), cluster.Consul(cluster.ConsulConfig{Address: proxy.Addr, Service: service, TTL: ttl, Logger: quiet()}))
	other := join(t, startNode(t, "other@test"), cluster.Consul(cluster.ConsulConfig{Address: agent.Addr, Service: service, TTL: ttl, Logger: quiet()}))
	lk, err := locker(t, cut).TryLock(ctxT(t, 5*time.Second), "app:x")
	if err != nil {
		t.Fatal(err)
	}
	took := make(chan time.Time, 1)
	go func() {
		l, err := locker(t, other).Lock(ctxT(t, 20*time.Second), "app:x")
		if err != nil {
			t.Error(err)
			took <- time.Time{}
			return
		}
		took <- time.Now()
		_ = l.Unlock(ctxT(t, 5*time.Second))
	}()
	proxy.Cut()
	cutAt := time.Now()
	var lostAt time.Time
	select {
	case <-lk.Lost():
		lostAt = time.Now()
	case <-time.After(ttl):
		t.Fatalf("lock not lost %v after Consul was cut off (bound %v)", ttl, cluster.LossBound(ttl))
	}
	var tookAt time.Time
	select {
	case tookAt = <-took:
	case <-time.After(30 * time.Second): // its Lock has 20 s
		t.Fatal("the other node's Lock did not return")
	}
	if tookAt.IsZero() {
		t.FailNow()
	}
	t.Logf("cut off to Lost: %v (bound %v); cut off to the other node's lock: %v (TTL %v)",
		lostAt.Sub(cutAt), cluster.LossBound(ttl), tookAt.Sub(cutAt), ttl)
	if lostAt.Sub(cutAt) > cluster.LossBound(ttl)+500*time.Millisecond {
		t.Errorf("lost %v after the cut, bound %v", lostAt.Sub(cutAt), cluster.LossBound(ttl))
	}
	if !lostAt.Before(tookAt) || tookAt.Sub(lostAt) < ttl/4 {
		t.Errorf("the other node took the key %v after the holder reported it lost", tookAt.Sub(lostAt))
	}
	proxy.Restore()
	_ = lk.Unlock(ctxT(t, 5*time.Second))
}
