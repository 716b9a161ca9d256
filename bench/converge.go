package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The convergence benchmark (issue 19, "Scale"): N nodes, each an OS
// process (this binary in the converge-node role, converge_node.go), join
// one cluster at once, and the harness measures how long until every node
// sees all N members and their N directory names, then each node's
// resident memory and heap, and the CPU the idle cluster uses. One run
// per cluster size, each a fresh cluster:
//
//	cd bench && go run . converge -n 10,30,60,100
//	cd bench && go run . converge -n 100 -provider consul -consul 127.0.0.1:8500
//	cd bench && go run . converge -n 100 -provider embedded,consul -consul-bin ../bin/consul
//
// With -consul-bin and no -consul, the harness runs its own Consul dev
// agent (converge_consul.go) for the consul runs and stops it at the end.
//
// make bench-compare runs a short one (bench/compare.sh) and writes its
// table into docs/benchmarks.md between the converge markers.

// ConvergeConfig is one convergence benchmark.
type ConvergeConfig struct {
	Sizes    []int         // cluster sizes, one run each
	Provider string        // "embedded" or "consul": the provider of this run
	Also     []string      // further providers, each run at every size after Provider
	Consul   string        // Consul's HTTP address (provider consul)
	Seeds    int           // embedded: nodes 0..Seeds-1 are every node's seeds
	Timeout  time.Duration // per run: past it, the run is reported unconverged
	Idle     time.Duration // how long the idle CPU is measured after converging
	Profile  string        // directory for CPU profiles of nodes 0, 1 and N-1
	Logs     string        // directory for every node's log
	Exe      string        // this binary
	Progress io.Writer
}

// ConvergeRun is the outcome of one cluster size.
type ConvergeRun struct {
	Nodes            int           `json:"nodes"`
	Provider         string        `json:"provider"`
	Seeds            int           `json:"seeds,omitempty"`
	Launch           time.Duration `json:"launch_ns"`    // all processes started and listening
	Joined           time.Duration `json:"joined_ns"`    // from "join" to the last node's Join returning
	Converged        time.Duration `json:"converged_ns"` // from "join" to the last node seeing everyone; 0: not within the timeout
	SawAll           int           `json:"saw_all"`      // nodes that saw everyone
	RSSMean          uint64        `json:"rss_mean"`
	RSSMax           uint64        `json:"rss_max"`
	HeapMean         uint64        `json:"heap_mean"`           // live heap after a GC, mean over the nodes
	FramesIn         uint64        `json:"frames_in"`           // per node, mean, from the start to the idle measurement's end
	IdleFramesPerSec float64       `json:"idle_frames_per_sec"` // per node, mean, while idle
	MembersMin       int           `json:"members_min"`         // the fewest members a node saw at the end
	Refused          uint64        `json:"refused"`             // connections refused at the handshake, all nodes
	Silent           uint64        `json:"silent"`              // connections cut for silence, all nodes
	IdleCores        float64       `json:"idle_cores"`
	// JoinCPU is the CPU (user and system) the nodes used from the join to
	// the last node seeing everyone, summed, over the number of nodes.
	JoinCPU   time.Duration `json:"join_cpu_ns,omitempty"`
	LoadStart string        `json:"load_start"`
	LoadEnd   string        `json:"load_end"`
	Err       string        `json:"err,omitempty"`
}

// ConvergeReport is a whole convergence benchmark.
type ConvergeReport struct {
	Started time.Time     `json:"started"`
	Machine Machine       `json:"machine"`
	Idle    time.Duration `json:"idle_ns"`
	Runs    []ConvergeRun `json:"runs"`
}

func convergeMain(args []string) int {
	fs := flag.NewFlagSet("converge", flag.ContinueOnError)
	sizes := fs.String("n", "10,30,60,100", "cluster sizes, comma-separated, one fresh cluster each")
	var cfg ConvergeConfig
	providers := fs.String("provider", "embedded", "membership providers, comma-separated: embedded, consul")
	fs.StringVar(&cfg.Consul, "consul", "", "Consul's HTTP address (host:port), for -provider consul")
	consulBin := fs.String("consul-bin", "", "a consul binary: without -consul, the harness runs its own dev agent for the consul runs")
	fs.IntVar(&cfg.Seeds, "seeds", 1, "embedded: how many nodes (0, 1, …) every node names as seeds")
	fs.DurationVar(&cfg.Timeout, "timeout", 60*time.Second, "time limit of one cluster size's convergence")
	fs.DurationVar(&cfg.Idle, "idle", 5*time.Second, "how long the idle cluster's CPU is measured")
	fs.StringVar(&cfg.Logs, "logs", "", "directory for every node's log (info level and up)")
	fs.StringVar(&cfg.Profile, "cpuprofile", "", "directory for CPU profiles of nodes 0, 1 and N-1 (go tool pprof)")
	out := fs.String("out", "out", "directory for converge.md and converge.json")
	docs := fs.String("docs", "", "a Markdown page whose convergence section to replace")
	from := fs.String("from", "", "render the converge.json of an earlier run instead of running")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "converge: -n: %q is not a cluster size\n", s)
			return 2
		}
		cfg.Sizes = append(cfg.Sizes, n)
	}
	list := strings.Split(*providers, ",")
	for i, p := range list {
		list[i] = strings.TrimSpace(p)
		if list[i] != "consul" && list[i] != "embedded" {
			fmt.Fprintf(os.Stderr, "converge: unknown provider %q (embedded, consul)\n", p)
			return 2
		}
	}
	cfg.Provider, cfg.Also = list[0], list[1:]
	switch {
	case slices.Contains(list, "consul") && cfg.Consul == "" && *consulBin == "" && *from == "":
		fmt.Fprintln(os.Stderr, "converge: -provider consul needs -consul host:port or -consul-bin")
		return 2
	case cfg.Seeds < 1:
		fmt.Fprintln(os.Stderr, "converge: -seeds must be at least 1")
		return 2
	}
	var err error
	if cfg.Exe, err = os.Executable(); err != nil {
		fmt.Fprintln(os.Stderr, "converge:", err)
		return 1
	}
	for _, dir := range []*string{&cfg.Logs, &cfg.Profile} {
		if *dir == "" {
			continue
		}
		if *dir, err = filepath.Abs(*dir); err == nil {
			err = os.MkdirAll(*dir, 0o755)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "converge:", err)
			return 1
		}
	}
	cfg.Progress = os.Stderr
	var rep *ConvergeReport
	if *from != "" { // render an earlier run again
		rep = &ConvergeReport{}
		b, err := os.ReadFile(*from)
		if err == nil {
			err = json.Unmarshal(b, rep)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "converge:", err)
			return 1
		}
	} else {
		if slices.Contains(list, "consul") && cfg.Consul == "" {
			agent, err := startConsulAgent(*consulBin, 30*time.Second)
			if err != nil {
				fmt.Fprintln(os.Stderr, "converge:", err)
				return 1
			}
			defer agent.stop()
			cfg.Consul = agent.addr
		}
		rep = runConverge(cfg)
	}
	md := rep.Markdown()
	fmt.Println(md)
	raw, _ := json.MarshalIndent(rep, "", "  ")
	errs := []error{os.MkdirAll(*out, 0o755)}
	errs = append(errs, os.WriteFile(filepath.Join(*out, "converge.md"), []byte("# Convergence\n\n"+md), 0o644),
		os.WriteFile(filepath.Join(*out, "converge.json"), raw, 0o644))
	if *docs != "" {
		errs = append(errs, replaceSection(*docs, convergeBegin, convergeEnd, md))
	}
	if err := errors.Join(errs...); err != nil {
		fmt.Fprintln(os.Stderr, "converge:", err)
		return 1
	}
	for _, r := range rep.Runs {
		if r.Err != "" {
			return 1
		}
	}
	return 0
}

func runConverge(cfg ConvergeConfig) *ConvergeReport {
	rep := &ConvergeReport{Started: time.Now(), Machine: describeMachine(), Idle: cfg.Idle}
	for _, prov := range append([]string{cfg.Provider}, cfg.Also...) {
		one := cfg
		one.Provider = prov
		for _, n := range cfg.Sizes {
			fmt.Fprintf(cfg.Progress, "converge: %d nodes (%s)…\n", n, prov)
			r := convergeOnce(one, n)
			fmt.Fprintf(cfg.Progress, "converge: %d nodes: converged in %s, %d saw all; RSS %s each; CPU %s per node while joining; idle %.0f %% of a core, %.0f frames/s in per node; %d connections refused, %d silent; load %s → %s %s\n",
				n, fmtDur(r.Converged), r.SawAll, fmtBytes(float64(r.RSSMean)), fmtDur(r.JoinCPU), 100*r.IdleCores, r.IdleFramesPerSec, r.Refused, r.Silent, r.LoadStart, r.LoadEnd, r.Err)
			rep.Runs = append(rep.Runs, r)
		}
	}
	return rep
}

// convergeNode is one node's process and what it said.
type convergeNode struct {
	c      *child
	addr   string
	joined time.Time
	all    time.Time
}

func convergeOnce(cfg ConvergeConfig, n int) (r ConvergeRun) {
	r = ConvergeRun{Nodes: n, Provider: cfg.Provider, LoadStart: loadAvg()}
	if cfg.Provider == "embedded" {
		r.Seeds = min(cfg.Seeds, n)
	}
	defer func() { r.LoadEnd = loadAvg() }()
	service := fmt.Sprintf("seedconverge-%d-%d-%d", os.Getpid(), n, time.Now().UnixNano())
	nodes := make([]*convergeNode, n)
	defer stopConvergeNodes(nodes)
	start := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		name := fmt.Sprintf("c%03d", i)
		cmd := exec.Command(cfg.Exe)
		cmd.Env = append(os.Environ(), envRole+"="+roleConvergeNode, envName+"="+name,
			envConvergeN+"="+strconv.Itoa(n), envService+"="+service)
		if cfg.Provider == "consul" {
			cmd.Env = append(cmd.Env, envConsul+"="+cfg.Consul)
		}
		if cfg.Logs != "" {
			cmd.Env = append(cmd.Env, envNodeLogs+"="+cfg.Logs)
		}
		if cfg.Profile != "" && (i == 0 || i == 1 || i == n-1) {
			cmd.Env = append(cmd.Env, envProfile+"="+filepath.Join(cfg.Profile, fmt.Sprintf("converge-%d-%s.pprof", n, name)))
		}
		c, err := startChild(name, cmd)
		if err != nil {
			r.Err = err.Error()
			return r
		}
		nodes[i] = &convergeNode{c: c}
		wg.Add(1)
		go func() {
			defer wg.Done()
			l, err := expectLine(c, "READY ", time.Until(start.Add(cfg.Timeout+time.Duration(n)*time.Second)))
			nodes[i].addr, errs[i] = l, err
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		r.Err = oneLine(err.Error())
		return r
	}
	r.Launch = time.Since(start)
	var seeds []string
	for i := range r.Seeds {
		seeds = append(seeds, nodes[i].addr)
	}
	cpu0 := nodesCPU(nodes)
	t0 := time.Now()
	for i, nd := range nodes { // the seeds first
		mine := slices.DeleteFunc(slices.Clone(seeds), func(s string) bool { return s == nd.addr })
		if _, err := io.WriteString(nd.c.stdin, "join "+strings.Join(mine, ",")+"\n"); err != nil {
			r.Err = fmt.Sprintf("c%03d: %v", i, err)
			return r
		}
	}
	deadline := t0.Add(cfg.Timeout)
	for i, nd := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = nd.await(time.Until(deadline))
		}()
	}
	wg.Wait()
	r.JoinCPU = (nodesCPU(nodes) - cpu0) / time.Duration(n)
	for _, nd := range nodes {
		if !nd.joined.IsZero() {
			r.Joined = max(r.Joined, nd.joined.Sub(t0))
		}
		if !nd.all.IsZero() {
			r.SawAll++
		}
	}
	if r.SawAll == n {
		for _, nd := range nodes {
			r.Converged = max(r.Converged, nd.all.Sub(t0))
		}
	} else {
		r.Err = fmt.Sprintf("%d of %d nodes saw everyone within %v", r.SawAll, n, cfg.Timeout)
		if err := errors.Join(errs...); err != nil {
			r.Err += ": " + oneLine(err.Error())
		}
	}
	convergeIdle(cfg, nodes, &r)
	if r.SawAll < n {
		r.Err += fmt.Sprintf("; the fewest members a node saw after the idle time: %d", r.MembersMin)
	}
	return r
}

// convergeIdle measures the idle cluster: CPU over cfg.Idle after a second
// of settling, then memory and counters (frames in per node during the
// idle time too).
func convergeIdle(cfg ConvergeConfig, nodes []*convergeNode, r *ConvergeRun) {
	time.Sleep(time.Second) // settling before the idle measurement, not synchronisation
	before := convergeStats(nodes)
	c0, w0 := nodesCPU(nodes), time.Now()
	time.Sleep(cfg.Idle)
	r.IdleCores = float64(nodesCPU(nodes)-c0) / float64(time.Since(w0))
	idle := time.Since(w0)
	after := convergeStats(nodes)
	var rss, heap, frames, idleFrames uint64
	counted := 0
	r.MembersMin = len(nodes)
	for i, nd := range nodes {
		b, _ := readRSS(nd.c.pid())
		rss += b
		r.RSSMax = max(r.RSSMax, b)
		s := after[i]
		if s == nil {
			continue
		}
		r.MembersMin = min(r.MembersMin, s.Members)
		heap += s.HeapBytes
		r.Refused += s.Refused
		r.Silent += s.Silent
		frames += s.FramesIn
		if before[i] != nil {
			idleFrames += s.FramesIn - before[i].FramesIn
		}
		counted++
	}
	r.RSSMean = rss / uint64(len(nodes))
	if counted > 0 {
		r.HeapMean = heap / uint64(counted)
		r.FramesIn = frames / uint64(counted)
		r.IdleFramesPerSec = float64(idleFrames) / float64(counted) / idle.Seconds()
	}
}

// nodesCPU is the CPU the nodes' processes have used, summed.
func nodesCPU(nodes []*convergeNode) (sum time.Duration) {
	for _, nd := range nodes {
		if d, err := readCPU(nd.c.pid()); err == nil {
			sum += d
		}
	}
	return sum
}

// convergeStats asks every node for its counters (nil where it did not
// answer within ten seconds of the question).
func convergeStats(nodes []*convergeNode) []*NodeStats {
	out := make([]*NodeStats, len(nodes))
	for _, nd := range nodes {
		_, _ = io.WriteString(nd.c.stdin, "stats\n")
	}
	deadline := time.Now().Add(10 * time.Second) // for all: a node that does not answer is skipped
	for i, nd := range nodes {
		l, err := expectLine(nd.c, "STATS ", max(time.Until(deadline), time.Millisecond))
		for err != nil && strings.Contains(err.Error(), `said "ALL `) { // it saw everyone after the time limit
			l, err = expectLine(nd.c, "STATS ", max(time.Until(deadline), time.Millisecond))
		}
		var s NodeStats
		if err == nil && json.Unmarshal([]byte(l), &s) == nil {
			out[i] = &s
		}
	}
	return out
}

// await reads the node's lines until it has seen everyone.
func (nd *convergeNode) await(wait time.Duration) error {
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		select {
		case l, ok := <-nd.c.lines:
			if !ok {
				return fmt.Errorf("%s exited%s", nd.c.role, nd.c.tail.report())
			}
			word, ts, _ := strings.Cut(l, " ")
			ns, _ := strconv.ParseInt(ts, 10, 64)
			switch word {
			case "JOINED":
				nd.joined = time.Unix(0, ns)
			case "ALL":
				nd.all = time.Unix(0, ns)
				return nil
			case "ERR":
				return fmt.Errorf("%s: %s", nd.c.role, ts)
			}
		case <-timer.C:
			return nil // counted as not converged
		}
	}
}

// expectLine waits for the child's next line, which must start with
// prefix, and returns the rest.
func expectLine(c *child, prefix string, wait time.Duration) (string, error) {
	select {
	case l, ok := <-c.lines:
		switch {
		case ok && strings.HasPrefix(l, prefix):
			return strings.TrimPrefix(l, prefix), nil
		case ok:
			return "", fmt.Errorf("%s said %q%s", c.role, l, c.tail.report())
		}
		<-c.done
		return "", fmt.Errorf("%s exited (%v)%s", c.role, c.cmd.ProcessState, c.tail.report())
	case <-time.After(wait):
		return "", fmt.Errorf("%s: nothing within %v%s", c.role, wait, c.tail.report())
	}
}

// stopConvergeNodes ends every node at once (each leaves, then is killed
// if it takes more than ten seconds; all die with this process anyway).
func stopConvergeNodes(nodes []*convergeNode) {
	var wg sync.WaitGroup
	for _, nd := range nodes {
		if nd == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			go func() { // drain what it says while it leaves, so it never blocks on stdout
				for range nd.c.lines {
				}
			}()
			nd.c.stop()
		}()
	}
	wg.Wait()
}
