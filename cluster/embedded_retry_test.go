package cluster_test

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/cluster"
)

// cutDialer refuses the dials to one address while cut, and counts them.
type cutDialer struct {
	mu    sync.Mutex
	to    string
	cut   bool
	dials []time.Time
}

func (d *cutDialer) dial(ctx context.Context, addr string) (net.Conn, error) {
	d.mu.Lock()
	refuse := d.cut && addr == d.to
	if addr == d.to {
		d.dials = append(d.dials, time.Now())
	}
	d.mu.Unlock()
	if refuse {
		return nil, errors.New("cut off by the test")
	}
	var nd net.Dialer
	return nd.DialContext(ctx, "tcp", addr)
}

func (d *cutDialer) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.dials)
}

// A greeting whose connection fails is sent again at the next Interval,
// the first few times, not two, four and eight Intervals later: a, which
// learned of c from their seed and cannot reach it, dials c four times
// within eight Intervals of the first try (the old schedule, at 0, 2 and
// 6 Intervals, made three). Once the path is back, they are members of
// each other.
func TestEmbeddedFailedGreetingRetriedAtNextInterval(t *testing.T) {
	const interval = 200 * time.Millisecond
	prov := func(seed string) cluster.Provider {
		return cluster.Embedded(cluster.EmbeddedConfig{Seeds: []string{seed}, Interval: interval})
	}
	s := join(t, startNode(t, "s@test"), cluster.Embedded(cluster.EmbeddedConfig{Interval: interval}))
	da, dc := &cutDialer{cut: true}, &cutDialer{cut: true}
	an := startNodeWith(t, actor.Config{Name: "a@test", Dial: da.dial})
	cn := startNodeWith(t, actor.Config{Name: "c@test", Dial: dc.dial})
	da.to, dc.to = cn.Address(), an.Address()
	c := join(t, cn, prov(s.n.Address()))
	s.awaitUp(t, 10*time.Second, "c@test")
	a := join(t, an, prov(s.n.Address())) // a's name is the smaller: it greets c at once
	deadline := time.Now().Add(10 * time.Second)
	for da.count() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("a did not try to reach c within 10 s of joining")
		}
		time.Sleep(time.Millisecond) // polling the dial count, bounded by the deadline
	}
	da.mu.Lock()
	first := da.dials[0]
	da.mu.Unlock()
	window := time.NewTimer(time.Until(first.Add(8 * interval)))
	<-window.C
	da.mu.Lock()
	tries := 0
	for _, at := range da.dials {
		if at.Sub(first) <= 8*interval {
			tries++
		}
	}
	da.mu.Unlock()
	t.Logf("a dialed c %d times within 8 Intervals of its first try", tries)
	if tries < 4 {
		t.Errorf("a dialed c %d times within 8 Intervals of its first failed greeting; want at least 4", tries)
	}
	for _, d := range []*cutDialer{da, dc} {
		d.mu.Lock()
		d.cut = false
		d.mu.Unlock()
	}
	a.awaitUp(t, 20*time.Second, "c@test", "s@test")
	c.awaitUp(t, 20*time.Second, "a@test", "s@test")
}
