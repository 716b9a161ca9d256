// Package fanout measures one publish to many subscribers on many nodes:
// a hub node runs a pub-sub exchange with no subscriber of its own, and
// each of Nodes other nodes, all in this OS process and connected over
// loopback TCP, runs a proxy of it (pubsub.Spec.Upstream) with Procs
// subscriber processes holding Tags subscriptions each. A publish at the
// hub crosses the network once per proxy node, and each proxy fans it out
// to its Procs × Tags subscriptions.
//
// It is the shape of the issue's figure ("one publish to 1,000,000
// subscribers on 10 nodes", patterns' old BenchmarkPubSubMillion: 1,000
// processes × 100 tags per node) and, with Procs 100,000 and Tags 1, of
// Ergo's published benchmark (100,000 subscriber processes per node). The
// go test benchmark (exchange/pubsub) and make bench-compare (bench/) run
// it.
package fanout

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime/metrics"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/exchange/pubsub"
	"github.com/switchboard-go/switchboard/internal/cputime"
	"github.com/switchboard-go/switchboard/patterns"
)

// Config is one fan-out shape.
type Config struct {
	Nodes int // subscriber nodes, each with a proxy of the hub's exchange
	Procs int // subscriber processes per node
	Tags  int // subscriptions per process (one pattern, Tags tags): a delivery each
	// Wait bounds one publish's wait for its deliveries (default 60 s).
	Wait time.Duration
}

// Subscriptions is how many deliveries one publish makes.
func (c Config) Subscriptions() int { return c.Nodes * c.Procs * c.Tags }

// Publish is what one publish took.
type Publish struct {
	Took time.Duration `json:"took"` // from Publish until every subscriber had it
	// Frames is how many frames all the nodes sent over the network
	// meanwhile (ticks not counted; the transport's FramesOut, summed
	// over the hub and every subscriber node); FramesIn likewise
	// received. One per subscriber node, from the hub, when the proxies
	// do their job.
	Frames   uint64 `json:"frames"`
	FramesIn uint64 `json:"frames_in"`
	// CPU is the process's user + system time meanwhile; Allocs the heap
	// objects it allocated; Goroutines the goroutines it started.
	CPU        time.Duration `json:"cpu"`
	Allocs     uint64        `json:"allocs"`
	Goroutines uint64        `json:"goroutines"`
}

// Cluster is a running fan-out: the hub and the subscriber nodes, with
// their subscriptions in place.
type Cluster struct {
	cfg    Config
	hub    *actor.Node
	nodes  []*actor.Node
	counts []*counter
	Setup  time.Duration // to start the nodes, spawn and subscribe
}

const exchangeName = "fanout"

var ex = exchange.Named(exchangeName)

// Start starts the hub and cfg.Nodes subscriber nodes on loopback and
// subscribes cfg.Procs × cfg.Tags on each; Close stops them.
func Start(ctx context.Context, cfg Config) (c *Cluster, err error) {
	if cfg.Nodes < 1 || cfg.Procs < 1 || cfg.Tags < 1 {
		return nil, fmt.Errorf("fanout: %d nodes × %d processes × %d tags", cfg.Nodes, cfg.Procs, cfg.Tags)
	}
	if cfg.Wait <= 0 {
		cfg.Wait = time.Minute
	}
	start := time.Now()
	c = &Cluster{cfg: cfg}
	defer func() {
		if err != nil {
			c.Close()
			c = nil
		}
	}()
	if c.hub, err = startNode("hub@localhost"); err != nil {
		return c, err
	}
	if _, err = pubsub.Start(ctx, c.hub, pubsub.Spec{Name: exchangeName}); err != nil {
		return c, err
	}
	for i := range cfg.Nodes {
		n, err := startNode(fmt.Sprintf("sub%d@localhost", i))
		if err != nil {
			return c, err
		}
		c.nodes = append(c.nodes, n)
		c.counts = append(c.counts, &counter{done: make(chan struct{}, 1)})
		// No re-sync checks (one frame per proxy every 5 s by default):
		// the frames counted are the publish's alone.
		if _, err := pubsub.Start(ctx, n, pubsub.Spec{Name: exchangeName, Upstream: exchange.At(c.hub.Address(), exchangeName), Resync: -1}); err != nil {
			return c, err
		}
	}
	// The nodes subscribe side by side: the setup is most of the run.
	errs := make([]error, cfg.Nodes)
	var wg sync.WaitGroup
	for i, n := range c.nodes {
		wg.Go(func() { errs[i] = subscribeAll(ctx, n, cfg, c.counts[i]) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return c, err
	}
	// Each proxy holds one pattern upstream: the hub has one subscription
	// per node once every proxy's has arrived.
	for {
		st, err := pubsub.Inspect(ctx, c.hub, ex)
		if err != nil {
			return c, err
		}
		if st.Subscriptions == cfg.Nodes {
			break
		}
		select {
		case <-ctx.Done():
			return c, fmt.Errorf("fanout: %d of %d proxies subscribed at the hub: %w", st.Subscriptions, cfg.Nodes, ctx.Err())
		case <-time.After(time.Millisecond): // the hub's own counter; no event to await
		}
	}
	c.Setup = time.Since(start)
	return c, nil
}

// startNode starts a node listening on loopback. Its TickTime is long: on
// a loaded machine the setup (a million subscriptions) may keep a node
// from ticking for seconds, and a connection cut then loses a publish.
func startNode(name string) (*actor.Node, error) {
	return actor.Start(actor.Config{
		Name:     name,
		Listen:   "127.0.0.1:0",
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		TickTime: time.Minute,
	})
}

func subscribeAll(ctx context.Context, n *actor.Node, cfg Config, cnt *counter) error {
	tags := make([]string, cfg.Tags)
	for k := range tags {
		tags[k] = fmt.Sprint(k)
	}
	for range cfg.Procs {
		pid, err := n.Spawn(ctx, &subscriber{c: cnt})
		if err != nil {
			return err
		}
		for _, tag := range tags {
			if err := patterns.Subscribe(ctx, n, ex, "news.#", tag, pid); err != nil {
				return err
			}
		}
	}
	return nil
}

// Publish publishes one message at the hub and returns once every
// subscriber has it, with what it took.
func (c *Cluster) Publish(ctx context.Context) (Publish, error) {
	per := int64(c.cfg.Procs * c.cfg.Tags)
	for _, cnt := range c.counts {
		cnt.expect(per)
	}
	out, in := c.frames()
	cpu, allocs, gs := cputime.Self(), readUint(allocsMetric), readUint(goroutinesMetric)
	start := time.Now()
	if err := patterns.Publish(ctx, c.hub, ex, "news.flash", wrapperspb.String("!")); err != nil {
		return Publish{}, err
	}
	deadline := time.NewTimer(c.cfg.Wait)
	defer deadline.Stop()
	for i, cnt := range c.counts {
		select {
		case <-cnt.done:
		case <-deadline.C:
			return Publish{}, fmt.Errorf("fanout: node %d got %d of %d deliveries within %v", i, cnt.got.Load(), cnt.target.Load(), c.cfg.Wait)
		case <-ctx.Done():
			return Publish{}, ctx.Err()
		}
	}
	p := Publish{Took: time.Since(start)}
	p.CPU = cputime.Self() - cpu
	p.Allocs, p.Goroutines = readUint(allocsMetric)-allocs, readUint(goroutinesMetric)-gs
	// A frame is counted as sent once its write returned, which may be
	// after its receiver counted and handled it: the count of frames sent
	// settles within moments of the deliveries.
	settle := time.Now().Add(time.Second)
	for {
		out2, in2 := c.frames()
		p.Frames, p.FramesIn = out2-out, in2-in
		if p.Frames >= p.FramesIn || time.Now().After(settle) {
			return p, nil
		}
		time.Sleep(50 * time.Microsecond) // the transport's counters; no event to await
	}
}

// frames sums the frames every node of the cluster sent and received.
func (c *Cluster) frames() (out, in uint64) {
	for _, n := range append([]*actor.Node{c.hub}, c.nodes...) {
		s := n.Stats()
		out += s.FramesOut
		in += s.FramesIn
	}
	return out, in
}

// Close stops every node.
func (c *Cluster) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, n := range c.nodes {
		_ = n.Stop(ctx)
	}
	if c.hub != nil {
		_ = c.hub.Stop(ctx)
	}
}

// Median is the median of the publishes' times.
func Median(ps []Publish) time.Duration {
	if len(ps) == 0 {
		return 0
	}
	ds := make([]time.Duration, len(ps))
	for i, p := range ps {
		ds[i] = p.Took
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)/2]
}

// counter counts one node's deliveries and signals when a target is met.
type counter struct {
	got    atomic.Int64
	target atomic.Int64
	done   chan struct{}
	_      [64]byte // one node's counter per cache line
}

func (c *counter) expect(n int64) { c.target.Store(c.got.Load() + n) }

func (c *counter) add() {
	if c.got.Add(1) == c.target.Load() {
		c.done <- struct{}{}
	}
}

// subscriber counts the published messages it gets.
type subscriber struct {
	actor.BaseServer
	c *counter
}

func (s *subscriber) HandleInfo(_ *actor.Process, msg any) {
	if _, ok, _ := pubsub.AsMessage(msg); ok {
		s.c.add()
	}
}

const (
	allocsMetric     = "/gc/heap/allocs:objects"
	goroutinesMetric = "/sched/goroutines-created:goroutines"
)

func readUint(name string) uint64 {
	s := []metrics.Sample{{Name: name}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}
