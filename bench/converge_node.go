package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/cluster"
)

// The node of the convergence benchmark (converge.go), one per OS process.
// It starts a node listening on loopback and says "READY <address>"; on
// the line "join <seeds>" (comma-separated addresses, maybe none) it joins
// the cluster, registers one directory name, and says "JOINED <unix ns>";
// once it sees SEEDBENCH_N members and as many names it says "ALL <unix
// ns>"; on "stats" it answers "STATS <json>"; at the end of its stdin it
// leaves and stops.
const (
	roleConvergeNode = "converge-node"
	envConvergeN     = "SEEDBENCH_N"         // members a node waits to see
	envConsul        = "SEEDBENCH_CONSUL"    // converge node: Consul's HTTP address; empty: embedded
	envService       = "SEEDBENCH_SERVICE"   // converge node: the Consul service of the run
	envNodeLogs      = "SEEDBENCH_NODE_LOGS" // converge node: a directory for its log (info and up)
)

// NodeStats is what a converge node answers to "stats".
type NodeStats struct {
	Members    int    `json:"members"`
	Names      int    `json:"names"`
	Rejected   uint64 `json:"rejected"`
	FramesIn   uint64 `json:"frames_in"`
	FramesOut  uint64 `json:"frames_out"`
	Refused    uint64 `json:"refused"`    // connections refused at the handshake, in or out
	Silent     uint64 `json:"silent"`     // connections cut because their peer was silent for TickTime
	HeapBytes  uint64 `json:"heap_bytes"` // live heap after a GC
	Goroutines int    `json:"goroutines"`
}

func runConvergeNode(stdin io.Reader, stdout io.Writer) int {
	var mu sync.Mutex
	say := func(format string, a ...any) {
		mu.Lock()
		fmt.Fprintf(stdout, format+"\n", a...)
		mu.Unlock()
	}
	fail := func(err error) int { say("ERR %s", oneLine(err.Error())); return 1 }
	want, err := strconv.Atoi(os.Getenv(envConvergeN))
	if err != nil || want < 1 {
		return fail(fmt.Errorf("%s=%q: want a count", envConvergeN, os.Getenv(envConvergeN)))
	}
	name := os.Getenv(envName)
	log := quietLogger()
	if dir := os.Getenv(envNodeLogs); dir != "" {
		f, err := os.Create(filepath.Join(dir, name+".log"))
		if err != nil {
			return fail(err)
		}
		defer f.Close()
		log = slog.New(slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	n, err := actor.Start(actor.Config{Name: name + "@localhost", Listen: "127.0.0.1:0", Logger: log})
	if err != nil {
		return fail(err)
	}
	defer stopNode(n)
	say("READY %s", n.Address())
	in := bufio.NewScanner(stdin)
	if !in.Scan() {
		return 0
	}
	cmd, arg, _ := strings.Cut(in.Text(), " ")
	if cmd != "join" {
		return fail(fmt.Errorf("want join, got %q", in.Text()))
	}
	var prov cluster.Provider
	if addr := os.Getenv(envConsul); addr != "" {
		prov = cluster.Consul(cluster.ConsulConfig{Address: addr, Service: os.Getenv(envService)})
	} else {
		var seeds []string
		if arg != "" {
			seeds = strings.Split(arg, ",")
		}
		prov = cluster.Embedded(cluster.EmbeddedConfig{Seeds: seeds})
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := cluster.Join(ctx, n, cluster.Config{Provider: prov, Logger: log})
	if err != nil {
		return fail(err)
	}
	defer func() {
		lctx, lcancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer lcancel()
		_ = c.Leave(lctx)
	}()
	if err := c.Register(ctx, "converge-"+name); err != nil {
		return fail(err)
	}
	say("JOINED %d", time.Now().UnixNano())
	stop := make(chan struct{})
	var watch sync.WaitGroup
	watch.Add(1)
	go func() { // polls until it sees everyone, then stays quiet for the idle measurement
		defer watch.Done()
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			if s := c.Stats(); s.Members >= want && s.Names >= want {
				say("ALL %d", time.Now().UnixNano())
				return
			}
			select {
			case <-t.C:
			case <-stop:
				return
			}
		}
	}()
	defer func() { close(stop); watch.Wait() }()
	for in.Scan() {
		if in.Text() != "stats" {
			continue
		}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		cs, ns := c.Stats(), n.Stats()
		b, _ := json.Marshal(NodeStats{Members: cs.Members, Names: cs.Names, Rejected: cs.Rejected,
			FramesIn: ns.FramesIn, FramesOut: ns.FramesOut, Refused: ns.Refused + ns.PendingRefused, Silent: ns.Silent, HeapBytes: ms.HeapAlloc, Goroutines: runtime.NumGoroutine()})
		say("STATS %s", b)
	}
	return 0
}
