package cluster_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/cluster"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func startNode(t testing.TB, name string) *actor.Node {
	t.Helper()
	return startNodeWith(t, actor.Config{Name: name})
}

// startNodeWith starts the node cfg on a free loopback port, quiet, and
// stops it at the test's end.
func startNodeWith(t testing.TB, cfg actor.Config) *actor.Node {
	t.Helper()
	cfg.Listen, cfg.Logger = "127.0.0.1:0", quiet()
	n, err := actor.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = n.Stop(ctx)
	})
	return n
}

// joined is a node in a cluster with a recorder of its events.
type joined struct {
	n   *actor.Node
	c   *cluster.Cluster
	rec *recorder
}

func join(t testing.TB, n *actor.Node, p cluster.Provider) *joined {
	t.Helper()
	c, err := cluster.Join(ctxT(t, 10*time.Second), n, cluster.Config{Provider: p, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	return adopt(t, n, c)
}

// adopt records the events of c, which n joined, from now on, and leaves
// it at the test's end.
func adopt(t testing.TB, n *actor.Node, c *cluster.Cluster) *joined {
	j := &joined{n: n, c: c, rec: newRecorder()}
	stop := c.OnEvent(j.rec.add)
	t.Cleanup(func() {
		stop()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = c.Leave(ctx)
	})
	return j
}

// recorder keeps a cluster's events and wakes those waiting for one.
type recorder struct {
	mu   sync.Mutex
	evs  []cluster.Event
	wake chan struct{}
}

func newRecorder() *recorder { return &recorder{wake: make(chan struct{})} }

func (r *recorder) add(ev cluster.Event) {
	r.mu.Lock()
	r.evs = append(r.evs, ev)
	close(r.wake)
	r.wake = make(chan struct{})
	r.mu.Unlock()
}

// await waits until cond holds for the events so far, up to d; every
// event wakes it to check again.
func (r *recorder) await(t testing.TB, d time.Duration, what string, cond func([]cluster.Event) bool) {
	t.Helper()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		ok, wake := cond(r.evs), r.wake
		evs := slices.Clone(r.evs)
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-wake:
		case <-deadline.C:
			t.Fatalf("%s: not within %v; events: %v", what, d, evs)
		}
	}
}

// last returns the kind of the latest event about node name, or 0.
func last(evs []cluster.Event, name string) cluster.EventKind {
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Member.Name == name {
			return evs[i].Kind
		}
	}
	return 0
}

func (j *joined) awaitUp(t testing.TB, d time.Duration, names ...string) {
	t.Helper()
	j.rec.await(t, d, j.n.Name()+" sees "+fmtNames(names)+" up", func([]cluster.Event) bool {
		for _, n := range names {
			if _, ok := j.c.Member(n); !ok {
				return false
			}
		}
		return true
	})
}

func (j *joined) awaitDown(t testing.TB, d time.Duration, name string) {
	t.Helper()
	j.rec.await(t, d, j.n.Name()+" sees "+name+" down", func(evs []cluster.Event) bool {
		_, ok := j.c.Member(name)
		return !ok && last(evs, name) == cluster.NodeDown
	})
}

func fmtNames(names []string) string {
	s := ""
	for i, n := range names {
		if i > 0 {
			s += ","
		}
		s += n
	}
	return s
}

func names(ms []cluster.Member) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Name
	}
	return out
}
