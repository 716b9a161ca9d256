package main

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/patterns"
)

// Memory is what idle processes cost, measured in a fresh OS process:
// the live heap after a full GC (and the goroutine stacks in use, and the
// resident set) before and after starting Count of them.
type Memory struct {
	What      string        `json:"what"`
	Count     int           `json:"count"`
	HeapBytes float64       `json:"heap_bytes"`  // live heap per process
	StackByte float64       `json:"stack_bytes"` // goroutine stacks per process
	RSSBytes  float64       `json:"rss_bytes"`   // resident memory per process
	Took      time.Duration `json:"took"`        // to start them all
	// Exchanges: for controllers, the exchanges they joined (GroupSize
	// each), and what one idle exchange costs before anyone joins it.
	Exchanges     int     `json:"exchanges,omitempty"`
	GroupSize     int     `json:"group_size,omitempty"`
	ExchangeBytes float64 `json:"exchange_bytes,omitempty"`
}

type idle struct{ actor.BaseServer }

type memSample struct{ heap, stack, rss uint64 }

func sampleMem() memSample {
	runtime.GC()
	runtime.GC() // twice: finalizers and sync.Pool caches from the first
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rss, _ := readRSS(selfPID())
	return memSample{heap: ms.HeapAlloc, stack: ms.StackInuse, rss: rss}
}

func perProcess(before, after memSample, n int) (heap, stack, rss float64) {
	d := func(a, b uint64) float64 { return (float64(b) - float64(a)) / float64(n) }
	return d(before.heap, after.heap), d(before.stack, after.stack), d(before.rss, after.rss)
}

// parallel runs f(i) for i in [0, n) on GOMAXPROCS goroutines and returns
// the first error.
func parallel(n int, f func(i int) error) error {
	workers := runtime.GOMAXPROCS(0)
	var (
		next     atomic.Int64
		firstErr atomic.Value
		wg       sync.WaitGroup
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n || firstErr.Load() != nil {
					return
				}
				if err := f(i); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		return err
	}
	return nil
}

// measureIdleActors spawns n processes that do nothing (a gen_server with
// the default callbacks) on one node.
func measureIdleActors(n int) (Memory, error) {
	node, err := startNode("idle@localhost", "")
	if err != nil {
		return Memory{}, err
	}
	defer stopNode(node) // only on error paths; the process exits after reporting
	ctx := context.Background()
	before := sampleMem()
	start := time.Now()
	if err := parallel(n, func(int) error { _, err := node.Spawn(ctx, &idle{}); return err }); err != nil {
		return Memory{}, fmt.Errorf("spawning idle actors: %w", err)
	}
	took := time.Since(start)
	after := sampleMem()
	m := Memory{What: "idle actor", Count: n, Took: took}
	m.HeapBytes, m.StackByte, m.RSSBytes = perProcess(before, after, n)
	return m, nil
}

// controllersPerExchange is how many idle controllers join each exchange.
// One exchange per million controllers would measure the exchange's
// member table, not a controller: every join tells every member (the
// seed's $slave_up), so a join costs O(members).
const controllersPerExchange = 10

// measureIdleControllers starts n/10 RoundRobin exchanges, then n
// patterns.Controllers, ten per exchange, and waits until every one has
// joined. A controller's cost includes its entry in its exchange's tables.
func measureIdleControllers(n int) (Memory, error) {
	node, err := startNode("idle@localhost", "")
	if err != nil {
		return Memory{}, err
	}
	defer stopNode(node)
	ctx := context.Background()
	exchanges := max(1, n/controllersPerExchange)
	name := func(i int) string { return fmt.Sprintf("x%d", i) }
	empty := sampleMem()
	if err := parallel(exchanges, func(i int) error {
		_, err := exchange.Start(ctx, node, exchange.Spec{Name: name(i), Strategy: exchange.RoundRobin})
		return err
	}); err != nil {
		return Memory{}, fmt.Errorf("starting exchanges: %w", err)
	}
	before := sampleMem()
	var joined atomic.Int64
	all := make(chan struct{})
	onEvent := func(_ *actor.Process, ev any) {
		if l, ok := ev.(*exchange.Leader); ok && len(l.Members) > 0 {
			if joined.Add(1) == int64(n) {
				close(all)
			}
		}
	}
	handler := func(context.Context, *exchange.Request) (any, error) { return pong, nil }
	start := time.Now()
	if err := parallel(n, func(i int) error {
		c := patterns.NewController(exchange.Named(name(i%exchanges)), handler)
		c.OnEvent = onEvent
		_, err := node.Spawn(ctx, c)
		return err
	}); err != nil {
		return Memory{}, fmt.Errorf("spawning controllers: %w", err)
	}
	select {
	case <-all:
	case <-time.After(5 * time.Minute):
		return Memory{}, fmt.Errorf("only %d of %d controllers joined in 5 minutes", joined.Load(), n)
	}
	took := time.Since(start)
	// Every exchange has handled its joins once it answers Inspect; the
	// MemberUp events it sent are then in the members' mailboxes.
	if err := parallel(exchanges, func(i int) error {
		_, err := exchange.Inspect(ctx, node, exchange.Named(name(i)))
		return err
	}); err != nil {
		return Memory{}, err
	}
	after := sampleMem()
	m := Memory{What: "idle controller", Count: n, Took: took, Exchanges: exchanges, GroupSize: controllersPerExchange}
	m.HeapBytes, m.StackByte, m.RSSBytes = perProcess(before, after, n)
	m.ExchangeBytes, _, _ = perProcess(empty, before, exchanges)
	return m, nil
}
