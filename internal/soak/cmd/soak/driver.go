package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/cluster"
	"github.com/switchboard-go/switchboard/examples/umbrella/apps/documents"
	"github.com/switchboard-go/switchboard/internal/linkproxy"
	"github.com/switchboard-go/switchboard/internal/soak/fault"
	"github.com/switchboard-go/switchboard/internal/soak/history"
	"github.com/switchboard-go/switchboard/release"
)

// Bounds of the run and of the check.
const (
	warmup   = 5 * time.Second
	cooldown = 15 * time.Second // longer than settle: membership converges before the end
	settle   = 8 * time.Second
	margin   = 2 * time.Second
	// volatileWindow: a document confirmed by the umbrella's in-memory
	// queue and never settled is excused if the queue's instance that
	// could hold it ended within this of its confirm (a kill, a failover
	// or a takeover of documents_queue): 4 deliveries of 5 s ack timeout.
	volatileWindow = 20 * time.Second
	nNodes         = 5
	// driverName is the driver's node: the clients, never faulted.
	driverName = "driver@localhost"
)

// run is the driver's state: the agent, the nodes, the driver's history.
type run struct {
	dir, exe string
	consul   *consul
	mesh     *linkproxy.Mesh // a proxy on each direction of every link: the cuts
	names    []string
	listen   []string
	releases map[string]string // the release file of each role
	cl       *cluster.Cluster  // the driver's view: where the hubs run
	mu       sync.Mutex
	procs    []*proc
	h        *hist
	start    time.Time
}

func driverMain() int {
	dur := 5 * time.Minute
	if v := os.Getenv("SOAK_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= warmup+cooldown {
			return fatalf("SOAK_DURATION %q: a duration longer than %v", v, warmup+cooldown)
		}
		dur = d
	}
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("SOAK_SEED"); v != "" {
		s, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return fatalf("SOAK_SEED %q: %v", v, err)
		}
		seed = s
	}
	bin := os.Getenv("SWITCHBOARD_CONSUL")
	if bin == "" {
		return fatalf("SWITCHBOARD_CONSUL names no Consul binary (scripts/soak.sh sets it)")
	}
	dir := os.Getenv("SOAK_DIR")
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "soak-"); err != nil {
			return fatalf("%v", err)
		}
	}
	exe, err := os.Executable()
	if err != nil {
		return fatalf("%v", err)
	}
	r := &run{dir: dir, exe: exe}
	fmt.Printf("soak: seed %d, duration %v, %d nodes, files in %s (replay: SOAK_SEED=%d SOAK_DURATION=%v make soak)\n", seed, dur, nNodes, dir, seed, dur)
	code, err := r.main(seed, dur, bin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		return 2
	}
	return code
}

// checkMain is "soak check DIR": the check of a run's files again (a
// run kept with SOAK_DIR), with this build's checker.
func checkMain(dir string) int {
	code, err := (&run{dir: dir}).check(nil)
	if err != nil {
		return fatalf("%v", err)
	}
	return code
}

func (r *run) main(seed uint64, dur time.Duration, bin string) (int, error) {
	for _, d := range []string{"effects", "journals"} {
		if err := os.MkdirAll(filepath.Join(r.dir, d), 0o700); err != nil {
			return 0, err
		}
	}
	var err error
	if r.h, err = openHist(filepath.Join(r.dir, "driver.jsonl")); err != nil {
		return 0, err
	}
	r.consul = &consul{bin: bin, log: filepath.Join(r.dir, "consul.log")}
	for i := range r.consul.ports {
		if r.consul.ports[i], err = freePort(); err != nil {
			return 0, err
		}
	}
	if err := r.consul.start(); err != nil {
		return 0, err
	}
	defer func() { r.consul.p.Stop(5 * time.Second) }()

	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	hubPort, err := freePort()
	if err != nil {
		return 0, err
	}
	for range nNodes {
		p, err := freePort()
		if err != nil {
			return 0, err
		}
		r.listen = append(r.listen, "127.0.0.1:"+strconv.Itoa(p))
	}
	r.names = nodeNames
	if r.releases, err = writeReleases(r.dir, r.names); err != nil {
		return 0, err
	}
	// Every node, the driver too, dials every other through a proxy of
	// the mesh: a cut fault cuts one link and only it.
	hub := "127.0.0.1:" + strconv.Itoa(hubPort)
	addrs := map[string]string{driverName: hub}
	for i, name := range r.names {
		addrs[name] = r.listen[i]
	}
	if r.mesh, err = linkproxy.NewMesh(addrs); err != nil {
		return 0, err
	}
	defer r.mesh.Close()
	n, err := actor.Start(actor.Config{Name: driverName, Listen: hub, Logger: logger, Dial: linkproxy.Dialer(r.mesh.Routes(driverName))})
	if err != nil {
		return 0, err
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = n.Stop(ctx)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := cluster.Join(ctx, n, cluster.Config{Provider: cluster.Consul(cluster.ConsulConfig{Address: r.consul.addr(), TTL: 2 * time.Second}), Logger: logger})
	if err != nil {
		return 0, fmt.Errorf("driver: join: %w", err)
	}
	r.cl = cl
	r.procs = make([]*proc, nNodes)
	// core-b first, as make demo starts it: it starts every hub, then
	// core-a, starting, takes over those that prefer it (users_core,
	// time_hub). Then the others at once.
	first := slices.Index(r.names, "core-b@localhost")
	if err := r.startNode(first); err != nil {
		r.stopNodes()
		return 0, err
	}
	errs := make([]error, nNodes)
	var wg sync.WaitGroup
	for i := range nNodes {
		if i != first {
			wg.Go(func() { errs[i] = r.startNode(i) })
		}
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		r.stopNodes()
		return 0, err
	}
	defer r.stopNodes()
	stopReport := make(chan struct{})
	reported := make(chan struct{})
	stalls := make(chan struct{})
	go func() { defer close(reported); report(r.h, n.Name(), cl, stopReport) }()
	go func() { defer close(stalls); watchStalls(r.h, n.Name(), stopReport) }()

	faults, err := fault.Schedule(fault.Config{Seed: seed, Duration: dur, Warmup: warmup, Cooldown: cooldown,
		Nodes: r.names, Gap: 3 * time.Second, MinPause: 3 * time.Second})
	if err != nil {
		return 0, err
	}
	fmt.Printf("soak: %d faults scheduled\n", len(faults))
	l := newLoad(n, r)
	if err := l.awaitServices(time.Minute); err != nil {
		return 0, err
	}
	r.start = time.Now()
	if err := l.start(context.Background()); err != nil {
		return 0, err
	}
	skipped := r.inject(l, faults)
	if rest := time.Until(r.start.Add(dur)); rest > 0 {
		time.Sleep(rest)
	}
	l.stop()
	backlog := l.drain(60 * time.Second)
	fmt.Printf("soak: backlog at the end of the load: %d tasks in %s\n", backlog, exBacklog)
	close(stopReport)
	<-reported
	<-stalls
	// The nodes stop recording their views before any of them leaves:
	// one still recording would see the others go (the end, not a fault).
	if err := os.WriteFile(filepath.Join(r.dir, stoppingFile), nil, 0o600); err != nil {
		return 0, err
	}
	time.Sleep(1500 * time.Millisecond) // a reporter's tick and a half: each has seen the file
	r.stopNodes()
	if err := r.h.close(); err != nil {
		return 0, err
	}
	return r.check(skipped)
}

// startNode starts node i: the umbrella's node command with its role's
// release (plus the probe), named, addressed and joined through the
// environment as make demo's nodes are, its documents checkers (on a
// worker) journaling each settled document.
func (r *run) startNode(i int) error {
	name := r.names[i]
	env := []string{"SOAK_NODE_INDEX=" + strconv.Itoa(i), "SOAK_NAMES=" + strings.Join(r.names, ","), "SOAK_NODES=" + strings.Join(r.listen, ","),
		"SOAK_DIR=" + r.dir, "SOAK_PATTERN=" + nodePatterns[i], "SOAK_EVENTS=" + nodeEvents[i],
		"SOAK_ROUTES=" + linkproxy.FormatRoutes(r.mesh.Routes(name)),
		"SWITCHBOARD_NODE_NAME=" + name, "SWITCHBOARD_NODE_LISTEN=" + r.listen[i],
		"SWITCHBOARD_NODE_CONSUL=" + r.consul.addr(), "SWITCHBOARD_NODE_CONSUL_TTL=2s",
		release.EnvVar(documents.CheckerName, documents.JournalKey.Name()) + "=" + filepath.Join(r.dir, "journals", short(name)+".jsonl")}
	logPath := filepath.Join(r.dir, short(name)+".log")
	p, err := start(name, logPath, env, r.exe, "node", "-release", r.releases[nodeRoles[i]])
	if err != nil {
		return err
	}
	if err := p.await(45 * time.Second); err != nil {
		p.Kill()
		return fmt.Errorf("%w; the end of its log:\n%s", err, tail(logPath, 20))
	}
	r.mu.Lock()
	r.procs[i] = p
	r.mu.Unlock()
	return nil
}

func (r *run) stopNodes() {
	var wg sync.WaitGroup
	r.mu.Lock()
	for _, p := range r.procs {
		if p != nil {
			wg.Go(func() { p.Stop(15 * time.Second) })
		}
	}
	r.mu.Unlock()
	wg.Wait()
}

// check merges the history files, checks them and prints the summary.
func (r *run) check(skipped map[string]int) (int, error) {
	files, err := filepath.Glob(filepath.Join(r.dir, "*.jsonl"))
	if err != nil {
		return 0, err
	}
	var recs []history.Record
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return 0, err
		}
		rs, err := history.Read(fh)
		fh.Close()
		if err != nil {
			return 0, fmt.Errorf("%s: %w", f, err)
		}
		recs = append(recs, rs...)
	}
	found, err := markerEffects(filepath.Join(r.dir, "effects"), recs)
	if err != nil {
		return 0, err
	}
	recs = append(recs, found...)
	settled, again, err := journalEffects(filepath.Join(r.dir, "journals"))
	if err != nil {
		return 0, err
	}
	recs = append(recs, settled...)
	vs, sum := history.Check(recs, history.Config{Margin: margin, Settle: settle, Handover: 5 * time.Second,
		MaxGoroutines: 10000, MaxHeap: 1 << 30, Volatile: volatileWindow})
	fmt.Printf("\nsoak: %d records from %d files\n", len(recs), len(files))
	sum.Print(os.Stdout)
	fmt.Printf("documents settled by the umbrella's checkers (journals): %d, settled again after a redelivery: %d\n", len(settled), again)
	if len(found) > 0 {
		fmt.Printf("task effects found only as marker files (the worker killed between the effect and its record): %d\n", len(found))
	}
	for k, c := range skipped {
		fmt.Printf("skipped (not implemented): %d %s faults\n", c, k)
	}
	if len(vs) > 0 {
		fmt.Printf("\nsoak: FAIL, %d violations\n", len(vs))
		for _, v := range vs {
			fmt.Println("  ", v)
		}
		return 1, nil
	}
	fmt.Println("\nsoak: PASS, no violations")
	return 0, nil
}

// markerEffects is an effect record for every task whose marker file
// exists in dir but whose worker recorded no effect: the file is the
// effect (a row keyed by the task), and a worker killed right after
// creating it never wrote its record.
func markerEffects(dir string, recs []history.Record) ([]history.Record, error) {
	seen := map[string]bool{}
	for _, rec := range recs {
		if rec.Type == history.TypeEffect && rec.Kind == history.OpTask {
			seen[rec.Key] = true
		}
	}
	es, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []history.Record
	for _, e := range es {
		if seen[e.Name()] {
			continue
		}
		rec := history.Record{Type: history.TypeEffect, Kind: history.OpTask, Key: e.Name(), Node: "marker-file"}
		if fi, err := e.Info(); err == nil {
			rec.Invoke = fi.ModTime()
		}
		out = append(out, rec)
	}
	return out, nil
}

// journalEffects is an effect record for each document the umbrella's
// checkers journaled as settled (documents.Entry lines, one file per
// node), once per document, and how many more settlements of a document
// there were: the queue delivers at least once, and a checker killed
// between its journal line and its ack leaves a document delivered again.
func journalEffects(dir string) ([]history.Record, int, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if err != nil {
		return nil, 0, err
	}
	seen := map[string]bool{}
	var out []history.Record
	again := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, 0, err
		}
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if line == "" {
				continue
			}
			var e documents.Entry
			if err := json.Unmarshal([]byte(line), &e); err != nil {
				return nil, 0, fmt.Errorf("%s: %w", f, err)
			}
			if seen[e.ID] {
				again++
				continue
			}
			seen[e.ID] = true
			out = append(out, history.Record{Type: history.TypeEffect, Kind: history.OpTask, Key: e.ID, Node: e.Node, Invoke: e.Time})
		}
	}
	return out, again, nil
}
