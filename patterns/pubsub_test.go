package patterns

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/exchange/pubsub"
	"github.com/switchboard-go/switchboard/exchange/topic"
)

// inbox is a subscriber process that passes its messages to a channel.
type inbox struct {
	actor.BaseServer
	out chan *pubsub.Message
}

func (b *inbox) HandleInfo(_ *actor.Process, msg any) {
	if m, ok, err := pubsub.AsMessage(msg); ok && err == nil {
		b.out <- m
	}
}

func subscriber(t testing.TB, n *actor.Node) (*actor.PID, chan *pubsub.Message) {
	t.Helper()
	out := make(chan *pubsub.Message, 1024)
	pid, err := n.Spawn(ctxT(t), &inbox{out: out})
	if err != nil {
		t.Fatal(err)
	}
	return pid, out
}

// next returns the next message, failing after a deadline.
func next(t testing.TB, ch chan *pubsub.Message) *pubsub.Message {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("no message")
		return nil
	}
}

// none checks that nothing more arrived once a later message, sent to all,
// has: order within a subscriber is the order of publishing.
func drainUntil(t testing.TB, ch chan *pubsub.Message, key string) []string {
	t.Helper()
	var keys []string
	for {
		m := next(t, ch)
		if m.Key == key {
			return keys
		}
		keys = append(keys, m.Key+"/"+m.Tag)
	}
}

func awaitStats(t testing.TB, n *actor.Node, ex exchange.Address, cond func(pubsub.Stats) bool) pubsub.Stats {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, err := pubsub.Inspect(ctxT(t), n, ex)
		if err == nil && cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("stats: %+v %v", st, err)
		}
		time.Sleep(time.Millisecond) // the exchange's own counters; no event to await
	}
}

func TestPubSubTopics(t *testing.T) {
	n := node(t, "a@localhost", false)
	ex := exchange.Named("events")
	if _, err := pubsub.Start(ctxT(t), n, pubsub.Spec{Name: "events"}); err != nil {
		t.Fatal(err)
	}
	hosts, hostsCh := subscriber(t, n)
	two, twoCh := subscriber(t, n)
	all, allCh := subscriber(t, n)
	for _, s := range []struct {
		pid          *actor.PID
		pattern, tag string
	}{{hosts, "TYPE.*", "hosts"}, {two, "*.*", "two"}, {all, "#", "all"}, {all, "TYPE.#", "all"}, {all, "#", "again"}} {
		if err := Subscribe(ctxT(t), n, ex, s.pattern, s.tag, s.pid); err != nil {
			t.Fatal(err)
		}
	}
	if err := Subscribe(ctxT(t), n, ex, "TYPE*", "", hosts); !errors.Is(err, topic.ErrInvalidPattern) {
		t.Fatalf("invalid pattern: %v", err)
	}
	if err := Publish(ctxT(t), n, ex, "TYPE.*", wrapperspb.String("x")); !errors.Is(err, topic.ErrInvalidKey) {
		t.Fatalf("invalid key: %v", err)
	}
	for _, key := range []string{"TYPE.host1", "TYPE", "other.host", "a.b.c", "TYPE.end"} {
		if err := Publish(ctxT(t), n, ex, key, wrapperspb.String(key)); err != nil {
			t.Fatal(err)
		}
	}
	if got := drainUntil(t, hostsCh, "TYPE.end"); !slices.Equal(got, []string{"TYPE.host1/hosts"}) {
		t.Fatalf("TYPE.* got %v", got)
	}
	if got := drainUntil(t, twoCh, "TYPE.end"); !slices.Equal(got, []string{"TYPE.host1/two", "other.host/two"}) {
		t.Fatalf("*.* got %v", got)
	}
	// "all" holds "#" and "TYPE.#" under one tag (one delivery each time)
	// and "#" under another.
	got := drainUntil(t, allCh, "TYPE.end")
	want := []string{"TYPE.host1/all", "TYPE.host1/again", "TYPE/all", "TYPE/again", "other.host/all", "other.host/again", "a.b.c/all", "a.b.c/again"}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("# got %v, want %v", got, want)
	}
	next(t, allCh) // TYPE.end under the other tag
	// Unsubscribe; a publish nobody matches is counted, not an error.
	if err := Unsubscribe(ctxT(t), n, ex, "TYPE.*", "hosts", hosts); err != nil {
		t.Fatal(err)
	}
	for _, pid := range []*actor.PID{two, all} {
		if err := n.StopProcess(ctxT(t), pid, nil); err != nil {
			t.Fatal(err)
		}
	}
	// Dead subscribers are removed.
	st := awaitStats(t, n, ex, func(s pubsub.Stats) bool { return s.Subscriptions == 0 && s.Subscribers == 0 })
	if err := Publish(ctxT(t), n, ex, "nobody.listens", wrapperspb.String("x")); err != nil {
		t.Fatal(err)
	}
	awaitStats(t, n, ex, func(s pubsub.Stats) bool { return s.Unmatched == st.Unmatched+1 })
	if _, err := pubsub.Start(ctxT(t), n, pubsub.Spec{}); !errors.Is(err, exchange.ErrInvalidSpec) {
		t.Fatalf("invalid spec: %v", err)
	}
	if err := Publish(ctxT(t), n, exchange.Named("missing"), "a", wrapperspb.String("x")); err != nil {
		// A publish to a missing local exchange is dropped like any send
		// to a dead process; Subscribe tells.
		t.Fatal(err)
	}
	if err := Subscribe(ctxT(t), n, exchange.Named("missing"), "a", "", hosts); !errors.Is(err, exchange.ErrExchangeNotFound) {
		t.Fatalf("subscribe to a missing exchange: %v", err)
	}
}

// Across nodes: the exchange on b, subscribers on a and c, publishers on
// all three.
func TestPubSubAcrossNodes(t *testing.T) {
	a, b, c := node(t, "a@localhost", true), node(t, "b@localhost", true), node(t, "c@localhost", true)
	if _, err := pubsub.Start(ctxT(t), b, pubsub.Spec{Name: "metrics"}); err != nil {
		t.Fatal(err)
	}
	ex := exchange.At(b.Address(), "metrics")
	sa, cha := subscriber(t, a)
	sc, chc := subscriber(t, c)
	if err := Subscribe(ctxT(t), a, ex, "cpu.*", "a", sa); err != nil {
		t.Fatal(err)
	}
	if err := Subscribe(ctxT(t), c, ex, "#.eu", "c", sc); err != nil {
		t.Fatal(err)
	}
	for i, from := range []*actor.Node{a, b, c} {
		if err := Publish(ctxT(t), from, ex, "cpu.eu", wrapperspb.String(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	for _, ch := range []chan *pubsub.Message{cha, chc} {
		seen := map[string]bool{}
		for range 3 {
			m := next(t, ch)
			seen[m.Value.(*wrapperspb.StringValue).GetValue()] = true
		}
		if len(seen) != 3 {
			t.Fatalf("got %v", seen)
		}
	}
	if err := Publish(ctxT(t), a, ex, "cpu.eu", "not protobuf"); !errors.Is(err, actor.ErrNotSerializable) {
		t.Fatalf("non-protobuf publish across nodes: %v", err)
	}
	// A subscriber node that goes away is removed.
	if err := c.Stop(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	awaitStats(t, b, exchange.Named("metrics"), func(s pubsub.Stats) bool { return s.Subscribers == 1 })
}

// Proxies: 50,000 subscribers spread over 5 access nodes, each with a
// proxy of the hub's exchange; one publish crosses the network 5 times
// (once per proxy), not 50,000, and reaches every subscriber.
func TestPubSubProxies(t *testing.T) {
	const nodes, procs, tags = 5, 100, 100 // 5 x 100 x 100 = 50,000 subscribers
	hub := node(t, "hub@localhost", true)
	if _, err := pubsub.Start(ctxT(t), hub, pubsub.Spec{Name: "prices"}); err != nil {
		t.Fatal(err)
	}
	var got atomic.Int64
	done := make(chan struct{})
	var once sync.Once
	count := func() {
		if got.Add(1) == nodes*procs*tags {
			once.Do(func() { close(done) })
		}
	}
	var access []*actor.Node
	for i := range nodes {
		n := node(t, fmt.Sprintf("access%d@localhost", i), true)
		access = append(access, n)
		proxy := exchange.Named("prices-proxy")
		if _, err := pubsub.Start(ctxT(t), n, pubsub.Spec{Name: "prices-proxy", Upstream: exchange.At(hub.Address(), "prices")}); err != nil {
			t.Fatal(err)
		}
		for range procs {
			pid, err := n.Spawn(ctxT(t), &counter{count: count})
			if err != nil {
				t.Fatal(err)
			}
			for k := range tags {
				pattern := "stock.*"
				if k%2 == 1 {
					pattern = "stock.#"
				}
				if err := Subscribe(ctxT(t), n, proxy, pattern, fmt.Sprint(k), pid); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	st := awaitStats(t, hub, exchange.Named("prices"), func(s pubsub.Stats) bool { return s.Subscriptions == 2*nodes })
	if err := Publish(ctxT(t), access[0], exchange.Named("prices-proxy"), "stock.acme", wrapperspb.Double(42)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("%d of %d subscribers got the message", got.Load(), nodes*procs*tags)
	}
	after := awaitStats(t, hub, exchange.Named("prices"), func(s pubsub.Stats) bool { return s.Published == st.Published+1 })
	t.Logf("one publish to %d subscribers on %d nodes: %d deliveries crossed the network from the hub", nodes*procs*tags, nodes, after.Remote-st.Remote)
	if d := after.Remote - st.Remote; d != nodes {
		t.Fatalf("the publish crossed the network %d times, want %d", d, nodes)
	}
}

type counter struct {
	actor.BaseServer
	count func()
}

func (c *counter) HandleInfo(_ *actor.Process, msg any) {
	if _, ok, _ := pubsub.AsMessage(msg); ok {
		c.count()
	}
}

// A proxy whose upstream restarts subscribes again.
func TestPubSubProxyUpstreamRestart(t *testing.T) {
	hub, access := node(t, "hub@localhost", true), node(t, "access@localhost", true)
	spec := pubsub.Spec{Name: "news"}
	up, err := pubsub.Start(ctxT(t), hub, spec)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pubsub.Start(ctxT(t), access, pubsub.Spec{Name: "news", Upstream: exchange.At(hub.Address(), "news")}); err != nil {
		t.Fatal(err)
	}
	pid, ch := subscriber(t, access)
	if err := Subscribe(ctxT(t), access, exchange.Named("news"), "sport.#", "", pid); err != nil {
		t.Fatal(err)
	}
	if err := hub.StopProcess(ctxT(t), up, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := pubsub.Start(ctxT(t), hub, spec); err != nil {
		t.Fatal(err)
	}
	awaitStats(t, hub, exchange.Named("news"), func(s pubsub.Stats) bool { return s.Subscriptions == 1 })
	if err := Publish(ctxT(t), hub, exchange.Named("news"), "sport.tennis", wrapperspb.String("ace")); err != nil {
		t.Fatal(err)
	}
	if m := next(t, ch); m.Key != "sport.tennis" || m.Exchange != "news" {
		t.Fatalf("got %+v", m)
	}
}

// Reverse pub-sub: one line on the consumer, sources on other nodes.
func TestCollect(t *testing.T) {
	a, b, c := node(t, "a@localhost", true), node(t, "b@localhost", true), node(t, "c@localhost", true)
	got := make(chan string, 16)
	col, err := Collect(ctxT(t), a, "logs", "app.#", func(m *pubsub.Message) { got <- m.Key + "=" + m.Value.(*wrapperspb.StringValue).GetValue() })
	if err != nil {
		t.Fatal(err)
	}
	ex := exchange.At(a.Address(), "logs")
	for _, src := range []*actor.Node{b, c} {
		for _, key := range []string{"app.web.error", "sys.kernel", "app"} {
			if err := Publish(ctxT(t), src, ex, key, wrapperspb.String(src.Name())); err != nil {
				t.Fatal(err)
			}
		}
	}
	var lines []string
	for range 4 {
		select {
		case l := <-got:
			lines = append(lines, l)
		case <-time.After(5 * time.Second):
			t.Fatalf("collected %v", lines)
		}
	}
	slices.Sort(lines)
	want := []string{"app.web.error=b@localhost", "app.web.error=c@localhost", "app=b@localhost", "app=c@localhost"}
	slices.Sort(want)
	if !slices.Equal(lines, want) {
		t.Fatalf("collected %v, want %v", lines, want)
	}
	if err := col.Stop(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if a.Whereis(exchange.RegisteredName("logs")) != nil {
		t.Fatal("the collector's exchange outlived Stop")
	}
}

// The subscribers of one tag share one message per publish; another tag,
// or the next publish, gets its own.
func TestPubSubSharesAMessagePerTag(t *testing.T) {
	n := node(t, "a@localhost", false)
	ex := exchange.Named("shared")
	if _, err := pubsub.Start(ctxT(t), n, pubsub.Spec{Name: "shared"}); err != nil {
		t.Fatal(err)
	}
	a, aCh := subscriber(t, n)
	b, bCh := subscriber(t, n)
	for _, s := range []struct {
		pid *actor.PID
		tag string
	}{{a, "x"}, {b, "x"}, {b, "y"}} {
		if err := Subscribe(ctxT(t), n, ex, "k", s.tag, s.pid); err != nil {
			t.Fatal(err)
		}
	}
	var firstX *pubsub.Message
	for i := range 2 {
		if err := Publish(ctxT(t), n, ex, "k", wrapperspb.String("v")); err != nil {
			t.Fatal(err)
		}
		ax := next(t, aCh)
		byTag := map[string]*pubsub.Message{}
		for range 2 {
			m := next(t, bCh)
			byTag[m.Tag] = m
		}
		if ax.Tag != "x" || byTag["x"] != ax || byTag["y"] == nil || byTag["y"] == ax {
			t.Fatalf("publish %d: a got %p %+v, b got %v", i, ax, ax, byTag)
		}
		if i == 0 {
			firstX = ax
		} else if ax == firstX {
			t.Fatal("the second publish reused the first's message")
		}
	}
}
