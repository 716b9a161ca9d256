package switchboardtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange/pubsub"
)

// Probe is a process that records every message it receives, for a test
// to assert on: what a process sent it, in order. Its PID can stand in
// for any process: a subscriber (patterns.Subscribe), the reply target of
// patterns.Request, a monitor of the cluster's nodes
// (cluster.MonitorNodes), the recipient of a Send or Cast from the code
// under test. It answers calls with a nil reply, after recording them.
//
// A pub-sub delivery from another node is recorded as the *pubsub.Message
// it stands for (pubsub.AsMessage), as a delivery from its own node is, so
// Expect[*pubsub.Message] works wherever the exchange runs.
//
// Messages are read in the order they arrived, each once, by Expect and
// ExpectNothing, from the test's goroutine.
type Probe struct {
	node  *actor.Node
	pid   *actor.PID
	token string // the prefix of this probe's markers

	mu   sync.Mutex
	msgs []any // received and not yet read
	wake chan struct{}
	seq  int
}

// marker is what a probe records for one of its own markers.
type marker string

// NewProbe spawns a probe on node n. t.Cleanup stops it at the end of
// the test (it also stops with its node).
func NewProbe(t testing.TB, n *actor.Node) *Probe {
	t.Helper()
	b := make([]byte, 8)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	p := &Probe{node: n, token: "switchboardtest.marker/" + hex.EncodeToString(b) + "/", wake: make(chan struct{})}
	ctx, cancel := context.WithTimeout(context.Background(), DefaultTimeout)
	defer cancel()
	pid, err := n.Spawn(ctx, probeServer{p})
	if err != nil {
		t.Fatalf("switchboardtest: spawning a probe on %s: %v", n.Name(), err)
	}
	p.pid = pid
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), DefaultTimeout)
		defer cancel()
		_ = n.StopProcess(ctx, pid, nil) // gone already if its node stopped
	})
	return p
}

// PID is the probe's process.
func (p *Probe) PID() *actor.PID { return p.pid }

// Record records msg as if the probe had received it, from any goroutine:
// for callbacks that report what they see rather than send it, such as the
// OnEvent of a patterns.Controller or Worker:
//
//	c.OnEvent = func(_ *actor.Process, ev any) { probe.Record(ev) }
func (p *Probe) Record(msg any) {
	if m, ok, err := pubsub.AsMessage(msg); ok && err == nil {
		msg = m
	} else if s, ok := msg.(*wrapperspb.StringValue); ok && strings.HasPrefix(s.GetValue(), p.token) {
		msg = marker(s.GetValue())
	}
	p.mu.Lock()
	p.msgs = append(p.msgs, msg)
	close(p.wake)
	p.wake = make(chan struct{})
	p.mu.Unlock()
}

// next takes the next message to read, or returns false at the deadline.
func (p *Probe) next(deadline <-chan time.Time) (any, bool) {
	for {
		p.mu.Lock()
		if len(p.msgs) > 0 {
			m := p.msgs[0]
			p.msgs[0] = nil
			p.msgs = p.msgs[1:]
			p.mu.Unlock()
			return m, true
		}
		wake := p.wake
		p.mu.Unlock()
		select {
		case <-wake:
		case <-deadline:
			return nil, false
		}
	}
}

// Expect reads the probe's next message and returns it as a T, waiting
// for it up to timeout (0: DefaultTimeout). It fails the test if no message
// comes in time, or if the next one is not a T: messages are read in order,
// none is skipped. T may be an interface type (any: whatever comes next).
func Expect[T any](t testing.TB, p *Probe, timeout time.Duration) T {
	t.Helper()
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	want := "a " + reflect.TypeFor[T]().String()
	if tt := reflect.TypeFor[T](); tt.Kind() == reflect.Interface && tt.NumMethod() == 0 {
		want = "a message"
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		m, ok := p.next(timer.C)
		if !ok {
			t.Fatalf("switchboardtest: probe %s got no message within %v; want %s", actor.FormatPID(p.pid), timeout, want)
			var zero T
			return zero
		}
		if _, stale := m.(marker); stale { // from an ExpectNothing that failed
			continue
		}
		v, ok := m.(T)
		if !ok {
			t.Fatalf("switchboardtest: probe %s got %T %v; want %s", actor.FormatPID(p.pid), m, m, want)
		}
		return v
	}
}

// ExpectNothing checks that the probe has received nothing it has not read,
// and nothing that was sent to it from the nodes from (default: the probe's
// own node) before the call: it sends the probe a marker from each of those
// nodes and reads until every marker has come, failing the test if
// anything else comes first, or if the markers do not come within timeout
// (0: DefaultTimeout). It waits only for the markers: no sleep, no
// guessing how long a message could take.
//
// That is sound because messages from one node to a process arrive in the
// order they were sent: whatever a process of node n sent the probe before
// ExpectNothing called n's Send arrives before n's marker. It proves
// nothing about a message not sent yet: make sure the code under test has
// done its part first (a call it answers after acting, say). For pub-sub,
// where the message would come from the exchange, publish a message that
// does reach the probe after the one that must not, and Expect it: the
// exchange delivers in order, so the one that must not would come first.
func ExpectNothing(t testing.TB, p *Probe, timeout time.Duration, from ...*actor.Node) {
	t.Helper()
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if len(from) == 0 {
		from = []*actor.Node{p.node}
	}
	p.mu.Lock()
	p.seq++
	seq := p.seq
	p.mu.Unlock()
	want := map[marker]string{}
	for k, n := range from {
		m := fmt.Sprintf("%s%d.%d", p.token, seq, k)
		want[marker(m)] = n.Name()
		if err := n.Send(p.pid, wrapperspb.String(m)); err != nil {
			t.Fatalf("switchboardtest: ExpectNothing: sending a marker from %s to probe %s: %v", n.Name(), actor.FormatPID(p.pid), err)
		}
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for len(want) > 0 {
		m, ok := p.next(timer.C)
		if !ok {
			var missing []string
			for _, n := range want {
				missing = append(missing, n)
			}
			t.Fatalf("switchboardtest: ExpectNothing: probe %s got no marker from %v within %v", actor.FormatPID(p.pid), missing, timeout)
		}
		if mk, ok := m.(marker); ok {
			delete(want, mk) // or a stale one of an earlier call
			continue
		}
		t.Fatalf("switchboardtest: probe %s got %T %v; want nothing", actor.FormatPID(p.pid), m, m)
	}
}

// probeServer is a probe's process.
type probeServer struct{ p *Probe }

func (s probeServer) Init(*actor.Process) error { return nil }

func (s probeServer) HandleCall(_ *actor.Process, msg any) (any, error) {
	s.p.Record(msg)
	return nil, nil
}

func (s probeServer) HandleCast(_ *actor.Process, msg any) { s.p.Record(msg) }

func (s probeServer) HandleInfo(_ *actor.Process, msg any) { s.p.Record(msg) }

func (s probeServer) Terminate(*actor.Process, error) {}
