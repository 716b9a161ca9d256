package main

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Config is one invocation of the comparison.
type Config struct {
	Systems    []System
	Topologies []Topology
	Shapes     []Shape
	// The durable-task topologies and shapes (durable.go), run after the
	// seed's.
	DurableTopologies []Topology
	DurableShapes     []Shape

	// AMQPURL is the RabbitMQ to call; AMQPError, when set, is why there is
	// none (bench/rabbitmq.sh could not start it): every RabbitMQ shape is
	// then reported failed with it. BrokerPID is its beam.smp, for CPU and
	// memory (0: unknown).
	AMQPURL   string
	AMQPError string
	BrokerPID int
	// RabbitScript is bench/rabbitmq.sh, RabbitClusterDir the directory
	// for the three-broker cluster it starts for the replicated durable
	// shape (and stops after it); without them RabbitMQ's replicated
	// shape runs on AMQPURL's single broker.
	RabbitScript     string
	RabbitClusterDir string
	// NATSServer is a nats-server binary the harness starts on a free
	// loopback port for the run (and stops after it).
	NATSServer string

	IdleActors      int          // idle actors to spawn for bytes per actor (0: not measured)
	IdleControllers int          // idle controllers, likewise
	FanOut          FanOutConfig // one publish to many subscribers on many nodes (Publishes 0: not measured)
	Warmup          int          // cycles each client makes before its first shape
	Timeout         time.Duration
	Pause           time.Duration // between two measured runs, so one system's after-work does not land on the next

	ProfileDir string // if set, every process of this binary writes its CPU profile there

	Exe     string   // the binary to re-execute in roles
	ExeArgs []string // and its arguments (a test binary's -test.run)

	Progress io.Writer
}

// Run is one shape of one system in one topology.
type Run struct {
	Topology Topology      `json:"topology"`
	System   System        `json:"system"`
	Shape    Shape         `json:"shape"`
	Outcome  Outcome       `json:"outcome"` // Outcome.Err: the run failed
	CPU      []ProcCPU     `json:"cpu"`     // per process, over the run's wall time
	Wall     time.Duration `json:"wall"`
	Others   float64       `json:"others"` // CPU % other processes on the machine used meanwhile
	Steal    float64       `json:"steal"`  // CPU % the hypervisor gave to other machines meanwhile
	Absent   string        `json:"absent,omitempty"`
}

// Failed is the run's error, or "".
func (r Run) Failed() string { return r.Outcome.Err }

// ProcCPU is one process's CPU during a run, in % of one core.
type ProcCPU struct {
	Role    string        `json:"role"`
	Percent float64       `json:"percent"`
	Time    time.Duration `json:"time"` // user + system over the run
}

// ProcMem is one process's resident memory at the end of a topology.
type ProcMem struct {
	Topology Topology `json:"topology"`
	System   System   `json:"system"`
	Role     string   `json:"role"`
	RSS      uint64   `json:"rss"`
	Peak     uint64   `json:"peak"`
	Err      string   `json:"err,omitempty"`
}

// Report is everything one invocation measured.
type Report struct {
	Machine  Machine       `json:"machine"`
	Versions []string      `json:"versions"`
	Started  time.Time     `json:"started"`
	Took     time.Duration `json:"took"`
	Runs     []Run         `json:"runs"`
	Memory   []Memory      `json:"memory"`
	FanOut   *FanOut       `json:"fanout,omitempty"`
	// FanOutErr is why the fan-out failed.
	FanOutErr string    `json:"fanout_err,omitempty"`
	Errors    []string  `json:"errors"` // failures outside the shapes (memory)
	RSS       []ProcMem `json:"rss"`
	// RabbitReplicated says what RabbitMQ's replicated durable shape ran
	// on: a three-broker cluster, or the single broker and why.
	RabbitReplicated string  `json:"rabbit_replicated,omitempty"`
	Others           float64 `json:"others"` // mean CPU % of other processes over all runs
	Steal            float64 `json:"steal"`  // mean CPU % stolen by the hypervisor over all runs
	Config           struct {
		Systems           []System   `json:"systems"`
		Topologies        []Topology `json:"topologies"`
		Shapes            []Shape    `json:"shapes"`
		DurableTopologies []Topology `json:"durable_topologies,omitempty"`
		DurableShapes     []Shape    `json:"durable_shapes,omitempty"`
	} `json:"config"`
}

type harness struct {
	cfg  Config
	rep  *Report
	dir  string // the durable roles' stores, removed at the end
	nats string // the NATS URL, once started
	natd *child // nats-server
	nerr error  // why there is no NATS
}

// proc is a process whose CPU and memory a run reports.
type proc struct {
	role string
	pid  int
}

// deployment is one system in one topology: its client process, and the
// other processes it needs.
type deployment struct {
	system   System
	client   *child
	children []*child
	procs    []proc
	err      error
	stops    []func() // after the children (a RabbitMQ cluster)
}

func (h *harness) logf(format string, a ...any) {
	if h.cfg.Progress != nil {
		fmt.Fprintf(h.cfg.Progress, format+"\n", a...)
	}
}

// runComparison runs every shape of every system in every topology, the
// systems interleaved shape by shape, then the memory measurements.
func runComparison(cfg Config) *Report {
	rep := &Report{Machine: describeMachine(), Started: time.Now(), Versions: versions(cfg)}
	h := &harness{cfg: cfg, rep: rep}
	rep.Config.Systems, rep.Config.Topologies, rep.Config.Shapes = cfg.Systems, cfg.Topologies, cfg.Shapes
	if has(cfg.Systems, NATS) {
		h.startNATS()
		defer h.stopNATS()
	}
	rep.Config.DurableTopologies, rep.Config.DurableShapes = cfg.DurableTopologies, cfg.DurableShapes
	if len(cfg.DurableTopologies) > 0 {
		var err error
		if h.dir, err = os.MkdirTemp("", "seedbench-durable."); err != nil {
			rep.Errors = append(rep.Errors, "durable shapes: "+err.Error())
			cfg.DurableTopologies = nil
		}
		defer os.RemoveAll(h.dir)
	}
	var others, steal []float64
	for _, topo := range append(slices.Clone(cfg.Topologies), cfg.DurableTopologies...) {
		h.logf("== %s", topo)
		shapes := cfg.Shapes
		if topo.durable() {
			shapes = cfg.DurableShapes
		}
		deps := map[System]*deployment{}
		for _, sys := range deployOrder(topo, cfg.Systems) {
			if sys.Has(topo) {
				deps[sys] = h.deploy(topo, sys)
				if err := deps[sys].err; err != nil {
					h.logf("   %s: setup failed: %v", sys, err)
				}
			}
		}
		for i, shape := range shapes {
			for _, sys := range rotate(cfg.Systems, i) {
				r := Run{Topology: topo, System: sys, Shape: shape}
				if d := deps[sys]; d == nil {
					if topo.durable() {
						continue // bare TCP has no durable queue
					}
					r.Absent = "no such topology: a broker cannot host its server"
				} else {
					r = h.measure(d, topo, shape)
					others, steal = append(others, r.Others), append(steal, r.Steal)
					h.logf("   %-16s %-11s %s", shape.Label(), sys, summary(r))
				}
				rep.Runs = append(rep.Runs, r)
			}
		}
		for _, sys := range cfg.Systems {
			if d := deps[sys]; d != nil {
				rep.RSS = append(rep.RSS, memoryOf(topo, d)...)
				d.teardown()
			}
		}
	}
	for _, m := range []struct {
		role string
		n    int
	}{{roleIdleActors, cfg.IdleActors}, {roleIdleControllers, cfg.IdleControllers}} {
		if m.n <= 0 {
			continue
		}
		h.logf("== %s: %s", m.role, thousands(m.n))
		mem, err := h.measureMemory(m.role, m.n)
		if err != nil {
			rep.Errors = append(rep.Errors, fmt.Sprintf("%s (%s): %v", m.role, thousands(m.n), err))
			h.logf("   failed: %v", err)
			continue
		}
		h.logf("   %.0f bytes of heap each (%v to start them)", mem.HeapBytes, mem.Took.Round(time.Millisecond))
		rep.Memory = append(rep.Memory, mem)
	}
	if fc := cfg.FanOut; fc.Publishes > 0 {
		h.logf("== fan-out: %d publishes to %s subscriptions on %d nodes", fc.Publishes, thousands(fc.Nodes*fc.Procs*fc.Tags), fc.Nodes)
		f, err := h.measureFanOut(fc)
		if err != nil {
			rep.FanOutErr = err.Error()
			h.logf("   failed: %v", err)
		} else {
			h.logf("   median %v until every subscriber had it (setup %v)", f.Median().Round(time.Millisecond), f.Setup.Round(time.Millisecond))
			rep.FanOut = &f
		}
	}
	rep.Others, rep.Steal = mean(others), mean(steal)
	rep.Took = time.Since(rep.Started)
	return rep
}

// deployOrder is the order systems are deployed in topo: in the
// replicated durable topology RabbitMQ first, whose cluster's start keeps
// both cores busy for a minute or more and would otherwise starve an
// idle Raft group already up, into an election.
func deployOrder(topo Topology, systems []System) []System {
	if topo != DurableReplicated || !has(systems, RabbitMQ) {
		return systems
	}
	return append([]System{RabbitMQ}, slices.DeleteFunc(slices.Clone(systems), func(s System) bool { return s == RabbitMQ })...)
}

func has[T comparable](s []T, v T) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func mean(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

func summary(r Run) string {
	if r.Failed() != "" {
		return "FAILED: " + r.Failed()
	}
	var cpu []string
	for _, c := range r.CPU {
		cpu = append(cpu, fmt.Sprintf("%s %.0f%%", c.Role, c.Percent))
	}
	l := r.Outcome.Latency
	if r.Shape.Window > 0 {
		return fmt.Sprintf("%9s confirmed/s %9s completed/s  %s CPU per task  confirm p50 %s p99 %s p99.9 %s  CPU %s", thousands(int(r.Outcome.Rate())),
			thousands(int(r.Outcome.CompletedRate())), fmtCPU(r.CPUPerCycle()), fmtDur(l.P50), fmtDur(l.P99), fmtDur(l.P999), strings.Join(cpu, ", "))
	}
	return fmt.Sprintf("%9s cycles/s  %s CPU per cycle  p50 %s p99 %s p99.9 %s  CPU %s", thousands(int(r.Outcome.Rate())),
		fmtCPU(r.CPUPerCycle()), fmtDur(l.P50), fmtDur(l.P99), fmtDur(l.P999), strings.Join(cpu, ", "))
}

// deploy starts the processes of sys in topo and its client.
func (h *harness) deploy(topo Topology, sys System) *deployment {
	d := &deployment{system: sys}
	client := map[string]string{
		envSystem:  string(sys),
		envTimeout: h.cfg.Timeout.String(),
		envWarmup:  strconv.Itoa(h.cfg.Warmup),
		envQueue:   "seedbench." + strings.ReplaceAll(topo.Short(), " ", "-"),
	}
	start := func(role, name string, env map[string]string) (string, error) {
		if h.cfg.ProfileDir != "" {
			env = maps.Clone(env)
			if env == nil {
				env = map[string]string{}
			}
			file := strings.NewReplacer(" ", "-", "'", "", "+", "-").Replace(fmt.Sprintf("%s-%s-%s.pprof", topo.Short(), sys, name))
			env[envProfile] = filepath.Join(h.cfg.ProfileDir, file)
		}
		c, detail, err := h.startRole(role, env, time.Minute)
		if err != nil {
			return "", err
		}
		d.children = append(d.children, c)
		d.procs = append(d.procs, proc{name, c.pid()})
		if role == roleClient {
			d.client = c
		}
		return detail, nil
	}
	fail := func(err error) *deployment {
		d.teardown()
		d.err = err
		return d
	}
	if topo.durable() {
		if err := h.deployDurable(d, topo, client, start); err != nil {
			return fail(err)
		}
		return d
	}
	switch sys {
	case Switchboard:
		switch topo {
		case OneNode:
			client[envServe] = "1"
			if _, err := start(roleClient, "node", client); err != nil {
				return fail(err)
			}
		case ThreeNodes:
			addr, err := start(roleSBExchange, "exchange", nil)
			if err != nil {
				return fail(err)
			}
			if _, err := start(roleSBController, "controller", map[string]string{envTarget: addr}); err != nil {
				return fail(err)
			}
			client[envTarget] = addr
			if _, err := start(roleClient, "client", client); err != nil {
				return fail(err)
			}
		case TwoNodes:
			addr, err := start(roleSBExchange, "exchange+controller", map[string]string{envServe: "1"})
			if err != nil {
				return fail(err)
			}
			client[envTarget] = addr
			if _, err := start(roleClient, "client", client); err != nil {
				return fail(err)
			}
		}
	case BareTCP:
		switch topo {
		case OneNode:
			client[envServe] = "1"
			if _, err := start(roleClient, "client+echo", client); err != nil {
				return fail(err)
			}
		case ThreeNodes:
			echo, err := start(roleTCPEcho, "echo", nil)
			if err != nil {
				return fail(err)
			}
			relay, err := start(roleTCPRelay, "relay", map[string]string{envTarget: echo})
			if err != nil {
				return fail(err)
			}
			client[envTarget], client[envEcho] = relay, echo
			if _, err := start(roleClient, "client", client); err != nil {
				return fail(err)
			}
		case TwoNodes:
			echo, err := start(roleTCPEcho, "relay+echo", nil)
			if err != nil {
				return fail(err)
			}
			client[envTarget] = echo
			if _, err := start(roleClient, "client", client); err != nil {
				return fail(err)
			}
		}
	case RabbitMQ, NATS:
		url, serverRole, pid, broker := h.cfg.AMQPURL, roleRabbitServer, h.cfg.BrokerPID, "broker"
		if sys == RabbitMQ && h.cfg.AMQPError != "" {
			return fail(errors.New(h.cfg.AMQPError))
		}
		if sys == RabbitMQ && url == "" {
			return fail(errors.New("no RabbitMQ: give -amqp"))
		}
		if sys == NATS {
			if h.nerr != nil {
				return fail(h.nerr)
			}
			url, serverRole, pid, broker = h.nats, roleNATSServer, h.natd.pid(), "nats-server"
		}
		client[envTarget] = url
		if topo == OneNode {
			client[envServe] = "1"
			if _, err := start(roleClient, "client+server", client); err != nil {
				return fail(err)
			}
		} else {
			if _, err := start(serverRole, "server", map[string]string{envTarget: url, envQueue: client[envQueue]}); err != nil {
				return fail(err)
			}
			if _, err := start(roleClient, "client", client); err != nil {
				return fail(err)
			}
		}
		if pid > 0 {
			d.procs = append(d.procs, proc{broker, pid})
		}
	}
	return d
}

func (d *deployment) teardown() {
	// The client first: servers then see their clients leave, not vanish.
	for i := len(d.children) - 1; i >= 0; i-- {
		d.children[i].stop()
	}
	d.children = nil
	for _, stop := range d.stops {
		stop()
	}
	d.stops = nil
}

// measure runs one shape on d, with the CPU time of d's processes, of the
// harness and of the whole machine read before and after.
func (h *harness) measure(d *deployment, topo Topology, shape Shape) Run {
	r := Run{Topology: topo, System: d.system, Shape: shape}
	if d.err != nil {
		r.Outcome = Outcome{Shape: shape, Err: "setup: " + d.err.Error()}
		return r
	}
	if d.client == nil {
		r.Outcome = Outcome{Shape: shape, Err: "client process gone after an earlier failure"}
		return r
	}
	time.Sleep(h.cfg.Pause)
	before := make([]time.Duration, len(d.procs))
	for i, p := range d.procs {
		before[i], _ = readCPU(p.pid)
	}
	self0, _ := readCPU(selfPID())
	busy0, steal0, _ := machineBusy()
	t0 := time.Now()
	out, err := d.client.run(shape, h.cfg.Timeout+30*time.Second)
	r.Wall = time.Since(t0)
	busy1, steal1, _ := machineBusy()
	self1, _ := readCPU(selfPID())
	ours := self1 - self0
	for i, p := range d.procs {
		after, err := readCPU(p.pid)
		if err != nil {
			continue
		}
		ours += after - before[i]
		r.CPU = append(r.CPU, ProcCPU{Role: p.role, Percent: percentOf(after-before[i], r.Wall), Time: after - before[i]})
	}
	r.Steal = percentOf(steal1-steal0, r.Wall)
	r.Others = max(0, percentOf(busy1-busy0-(steal1-steal0)-ours, r.Wall))
	if err != nil {
		out = Outcome{Shape: shape, Err: err.Error()}
		d.client.stop()
		d.client = nil // later shapes of this deployment fail at once, with the reason
	}
	r.Outcome = out
	return r
}

func percentOf(cpu, wall time.Duration) float64 {
	if wall <= 0 {
		return 0
	}
	return 100 * cpu.Seconds() / wall.Seconds()
}

func memoryOf(topo Topology, d *deployment) []ProcMem {
	if d.err != nil {
		return []ProcMem{{Topology: topo, System: d.system, Role: "(setup failed)", Err: d.err.Error()}}
	}
	var out []ProcMem
	for _, p := range d.procs {
		m := ProcMem{Topology: topo, System: d.system, Role: p.role}
		var err error
		if m.RSS, err = readRSS(p.pid); err == nil {
			m.Peak, err = readPeakRSS(p.pid)
		}
		if err != nil {
			m.Err = err.Error()
		}
		out = append(out, m)
	}
	return out
}

// measureMemory runs a memory role in a fresh process.
func (h *harness) measureMemory(role string, n int) (Memory, error) {
	c, detail, err := h.startRole(role, map[string]string{envIdleCount: strconv.Itoa(n)}, 8*time.Minute)
	if err != nil {
		return Memory{}, err
	}
	defer c.stop()
	var m Memory
	if err := jsonUnmarshal(detail, &m); err != nil {
		return Memory{}, fmt.Errorf("%s said %q", role, detail)
	}
	return m, nil
}

// startNATS starts a private nats-server on a free loopback port.
func (h *harness) startNATS() {
	if h.cfg.NATSServer == "" {
		h.nerr = errors.New("no nats-server binary given (-nats-server)")
		return
	}
	port, err := freePort()
	if err != nil {
		h.nerr = err
		return
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	c, err := startNATSProcess("nats-server", h.cfg.NATSServer, addr, "-a", "127.0.0.1", "-p", strconv.Itoa(port))
	if err != nil {
		h.nerr = err
		return
	}
	h.natd, h.nats = c, "nats://"+addr
}

// startNATSProcess starts the nats-server binary with args and returns
// once it listens on addr (its client port).
func startNATSProcess(role, bin, addr string, args ...string) (*child, error) {
	c, err := startChild(role, exec.Command(bin, args...))
	if err != nil {
		return nil, err
	}
	c.interrupt = true
	for deadline := time.Now().Add(20 * time.Second); ; {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = conn.Close()
			break
		}
		select {
		case <-c.done:
			return nil, fmt.Errorf("%s exited at start%s", role, c.tail.report())
		default:
		}
		if time.Now().After(deadline) {
			c.terminate()
			return nil, fmt.Errorf("%s did not listen on %s in 20 s%s", role, addr, c.tail.report())
		}
		time.Sleep(50 * time.Millisecond) // polling a port another process opens: no event to wait on
	}
	go func() { // nats-server logs to stderr; the tail buffer keeps its end
		for range c.lines {
		}
	}()
	return c, nil
}

func (h *harness) stopNATS() {
	if h.natd != nil {
		h.natd.terminate()
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// versions names the software compared, from Debian's package database
// where the server came from there.
func versions(cfg Config) []string {
	v := []string{"Switchboard " + revision() + ", " + describeMachine().Go}
	if has(cfg.Systems, RabbitMQ) {
		v = append(v, "RabbitMQ "+dpkgVersion("rabbitmq-server")+" on Erlang/OTP "+dpkgVersion("erlang-base")+
			", client github.com/rabbitmq/amqp091-go "+moduleVersion("github.com/rabbitmq/amqp091-go"))
	}
	if has(cfg.Systems, NATS) {
		v = append(v, "NATS "+dpkgVersion("nats-server")+", client github.com/nats-io/nats.go "+moduleVersion("github.com/nats-io/nats.go"))
	}
	return v
}

func dpkgVersion(pkg string) string {
	out, err := exec.Command("dpkg-query", "-W", "-f=${Version}", pkg).Output()
	if err != nil || len(out) == 0 {
		return "(version unknown)"
	}
	return strings.TrimSpace(string(out))
}

// revision is the commit the binary was built from, as go build records it.
func revision() string {
	rev, dirty := "", false
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	if len(rev) < 12 { // built with -buildvcs=false: ask git
		out, err := exec.Command("git", "rev-parse", "HEAD").Output()
		if err != nil || len(out) < 12 {
			return "(this working tree)"
		}
		rev = strings.TrimSpace(string(out))
		st, _ := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output()
		dirty = len(st) > 0
	}
	if dirty {
		return "at commit " + rev[:12] + " (the working tree had uncommitted changes)"
	}
	return "at commit " + rev[:12]
}
