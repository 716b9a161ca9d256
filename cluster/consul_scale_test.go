package cluster_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/cluster"
	"github.com/switchboard-go/switchboard/internal/childtest"
	"github.com/switchboard-go/switchboard/internal/consultest"
)

// The scale measurement of the Consul provider (issue 19, "Scale"): N
// nodes as OS processes join one Consul dev agent at once. Off unless
// SWITCHBOARD_CONSUL_SCALE lists the node counts, say
//
//	SWITCHBOARD_CONSUL_SCALE=10,30,60,100 go test -run TestConsulScale -v ./cluster/
//
// (without -race: a hundred race-instrumented children measure the race
// detector). For each N it reports, and checks:
//   - convergence: from the first child's start until every node sees all
//     N members and all N directory entries (bound
//     SWITCHBOARD_CONSUL_SCALE_BOUND, default 5 s; 0 only reports);
//   - stability: for SWITCHBOARD_CONSUL_SCALE_HOLD (default 10 s) every
//     node's check passes at every poll and no node sees another go down
//     or come back; the agent's and the nodes' CPU meanwhile, their memory;
//   - kill -9 of one node: seen as NodeDown by every other within TTL + 1 s
//     (docs/cluster.md);
//   - a clean stop of all: every instance gone from Consul.
//
// Each line of the report carries the load average (the machine is
// shared). SB_SCALE_DIAG=1 logs the sessions, records and critical checks
// at every poll of the hold; SB_PROF_s<i>=file writes node s<i>'s CPU
// profile from its join until it saw everyone; SB_LOG=debug shows the
// nodes' provider logs (default: warnings).
const scaleChildEnv = "SWITCHBOARD_CLUSTER_SCALE_CHILD"

func TestConsulScale(t *testing.T) {
	spec := os.Getenv("SWITCHBOARD_CONSUL_SCALE")
	if spec == "" {
		t.Skip("set SWITCHBOARD_CONSUL_SCALE=10,30,60,100 (node counts) to run")
	}
	hold := 10 * time.Second
	if d, err := time.ParseDuration(os.Getenv("SWITCHBOARD_CONSUL_SCALE_HOLD")); err == nil {
		hold = d
	}
	bound := 5 * time.Second
	if d, err := time.ParseDuration(os.Getenv("SWITCHBOARD_CONSUL_SCALE_BOUND")); err == nil {
		bound = d
	}
	agent := consultest.Start(t)
	for run, f := range strings.Split(spec, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 2 {
			t.Fatalf("SWITCHBOARD_CONSUL_SCALE: %q is not a node count of at least 2", f)
		}
		service := fmt.Sprintf("sb-scale-%d-%d", run, n)
		t.Run(fmt.Sprintf("N=%d", n), func(t *testing.T) { scaleRun(t, agent, service, n, hold, bound) })
	}
}

// scaleLine is a line a child printed, with when the test read it.
type scaleLine struct {
	child int
	text  string
	at    time.Time
}

type scaleNode struct {
	ch             *childtest.Child
	joined         time.Time
	members, names time.Time
	downs, ups     []string // after convergence
	downAt         map[string]time.Time
	// The node's own CPU time in µs: when it began to join, when Join
	// returned, when it saw everyone.
	cpuStart, cpuJoined, cpuConverged int64
}

func scaleRun(t *testing.T, agent *consultest.Agent, service string, n int, hold, bound time.Duration) {
	const ttl = 3 * time.Second
	env := []string{"SB_CONSUL=" + agent.Addr, "SB_SERVICE=" + service, "SB_TTL=" + ttl.String(), "SB_N=" + strconv.Itoa(n)}
	if os.Getenv("SB_LOG") == "" {
		env = append(env, "SB_LOG=warn") // the provider's warnings on stderr
	}
	lines := make(chan scaleLine, 16*n)
	done := make(chan struct{})
	var fwd sync.WaitGroup
	t.Cleanup(fwd.Wait) // runs last: after the children were killed
	nodes := make([]*scaleNode, n)
	load0 := loadAvg()
	arun0, await0 := schedStat(agent.PID())
	start := time.Now()
	for i := range nodes {
		name := fmt.Sprintf("s%d", i)
		ch := childtest.Start(t, name, append(slices.Clip(env), scaleChildEnv+"="+name)...)
		nodes[i] = &scaleNode{ch: ch, downAt: map[string]time.Time{}}
		fwd.Add(1)
		go func() {
			defer fwd.Done()
			for l := range ch.Lines() {
				select {
				case lines <- scaleLine{i, l, time.Now()}:
				case <-done:
				}
			}
		}()
	}
	t.Cleanup(func() { close(done) }) // runs first
	spawned := time.Since(start)

	handle := func(l scaleLine) {
		nd := nodes[l.child]
		word, arg, _ := strings.Cut(l.text, " ")
		switch word {
		case "ERR":
			t.Fatalf("node s%d: %s", l.child, l.text)
		case "JOINED":
			nd.joined = l.at
			_, _ = fmt.Sscan(arg, &nd.cpuStart, &nd.cpuJoined)
		case "MEMBERS":
			nd.members = l.at
		case "NAMES":
			nd.names = l.at
			_, _ = fmt.Sscan(arg, &nd.cpuConverged)
		case "DOWN":
			nd.downs = append(nd.downs, arg)
			nd.downAt[arg] = l.at
		case "UP":
			nd.ups = append(nd.ups, arg)
		}
	}
	converged := func() int {
		c := 0
		for _, nd := range nodes {
			if !nd.members.IsZero() && !nd.names.IsZero() {
				c++
			}
		}
		return c
	}
	limit := time.NewTimer(60 * time.Second)
	defer limit.Stop()
	for converged() < n {
		select {
		case l := <-lines:
			handle(l)
		case <-limit.C:
			joined, members := 0, 0
			for _, nd := range nodes {
				joined += btoi(!nd.joined.IsZero())
				members += btoi(!nd.members.IsZero())
			}
			t.Fatalf("N=%d: within 60 s %d of %d nodes joined, %d saw every member, %d every member and entry; %d of %d checks passing, %d connections to the agent; load %s",
				n, joined, n, members, converged(), passing(agent, service), n, agentConns(agent), loadAvg())
		}
	}
	var lastJoin, lastMembers, lastNames time.Time
	for _, nd := range nodes {
		lastJoin = later(lastJoin, nd.joined)
		lastMembers = later(lastMembers, nd.members)
		lastNames = later(lastNames, nd.names)
	}
	convergence := later(lastMembers, lastNames).Sub(start)
	var cpuStart, cpuJoin, cpuWatch int64
	for _, nd := range nodes {
		cpuStart += nd.cpuStart
		cpuJoin += nd.cpuJoined - nd.cpuStart
		cpuWatch += nd.cpuConverged - nd.cpuJoined
	}
	t.Logf("N=%d: CPU per node: %.1f ms to start, %.1f ms to join, %.1f ms from then until it saw everyone",
		n, float64(cpuStart)/1e3/float64(n), float64(cpuJoin)/1e3/float64(n), float64(cpuWatch)/1e3/float64(n))
	arun, await := schedStat(agent.PID())
	var nrun, nwait time.Duration
	for _, nd := range nodes {
		r, w := schedStat(nd.ch.Cmd.Process.Pid)
		nrun, nwait = nrun+r, nwait+w
	}
	t.Logf("N=%d: started in %v; every node joined %v, saw all members %v, all entries %v after the first start; meanwhile the agent ran %v and waited %v for a CPU, the nodes ran %v and waited %v (load %s)",
		n, spawned.Round(time.Millisecond), lastJoin.Sub(start).Round(time.Millisecond),
		lastMembers.Sub(start).Round(time.Millisecond), lastNames.Sub(start).Round(time.Millisecond),
		(arun - arun0).Round(time.Millisecond), (await - await0).Round(time.Millisecond),
		nrun.Round(time.Millisecond), nwait.Round(time.Millisecond), load0)
	for _, nd := range nodes {
		if len(nd.downs) > 0 {
			t.Errorf("node %s saw nodes go down while converging: %v", nd.ch.Name, nd.downs)
		}
	}

	// Hold: every check passes, nobody flaps.
	for _, nd := range nodes {
		nd.downs, nd.ups = nil, nil // seen while converging: reported above
	}
	apid := agent.PID()
	acpu0, ncpu0 := procCPU(apid), childrenCPU(nodes)
	holdStart := time.Now()
	minPassing := n
	poll := time.NewTicker(500 * time.Millisecond)
	holdEnd := time.NewTimer(hold)
	for held := false; !held; {
		select {
		case l := <-lines:
			handle(l)
		case <-poll.C:
			minPassing = min(minPassing, passing(agent, service))
			if os.Getenv("SB_SCALE_DIAG") != "" {
				ss, _, _ := agent.Client.Session().List(nil)
				live := 0
				for _, se := range ss {
					if strings.HasPrefix(se.Name, "switchboard:"+service+":") {
						live++
					}
				}
				recs, _, _ := agent.Client.KV().Keys("switchboard/"+service+"/members/", "", nil)
				crit, _, _ := agent.Client.Health().State(api.HealthCritical, nil)
				t.Logf("diag: sessions %d, records %d, critical checks in the catalog %d (of all services)", live, len(recs), len(crit))
			}
		case <-holdEnd.C:
			held = true
		}
	}
	poll.Stop()
	held := time.Since(holdStart)
	acpu, ncpu := procCPU(apid)-acpu0, childrenCPU(nodes)-ncpu0
	var rssSum, rssMax int64
	for _, nd := range nodes {
		r, _ := nd.ch.RSS()
		rssSum += r
		rssMax = max(rssMax, r)
	}
	arss, _ := childtest.RSS(apid)
	conns := agentConns(agent)
	flaps := 0
	for _, nd := range nodes {
		flaps += len(nd.downs) + len(nd.ups)
	}
	t.Logf("N=%d: held %v: checks passing at least %d of %d, %d flaps; %d connections to the agent; agent %.1f%% of a core, %d MB; nodes %.1f%% of a core together, RSS %.1f MB each (max %.1f) (load %s)",
		n, held.Round(time.Millisecond), minPassing, n, flaps, conns, 100*acpu.Seconds()/held.Seconds(), arss>>20,
		100*ncpu.Seconds()/held.Seconds(), float64(rssSum)/float64(n)/(1<<20), float64(rssMax)/(1<<20), loadAvg())
	if minPassing < n || flaps > 0 {
		t.Errorf("N=%d: not stable: checks passing at least %d of %d, %d nodes seen down or up again", n, minPassing, n, flaps)
	}

	// kill -9 of one node: every other sees it down within TTL + 1 s.
	victim := nodes[0]
	killed := time.Now()
	victim.ch.Kill()
	var firstDown, lastDown, critical, gone time.Time
	limit.Reset(ttl + 10*time.Second)
	probe := time.NewTicker(50 * time.Millisecond) // where the time goes: the agent's check, the record
	defer probe.Stop()
	checkID := service + ":" + victim.ch.Name + "@scale:ttl"
	records := "switchboard/" + service + "/members/" + victim.ch.Name + "@scale/"
	for seen := 0; seen < n-1; {
		seen = 0
		for _, nd := range nodes[1:] {
			if at, ok := nd.downAt[victim.ch.Name]; ok {
				seen++
				lastDown = later(lastDown, at)
				if firstDown.IsZero() || at.Before(firstDown) {
					firstDown = at
				}
			}
		}
		if seen == n-1 {
			break
		}
		select {
		case l := <-lines:
			handle(l)
		case <-probe.C:
			if critical.IsZero() {
				if cs, err := agent.Client.Agent().ChecksWithFilter(fmt.Sprintf("CheckID == %q", checkID)); err == nil && len(cs) == 1 && cs[checkID].Status == api.HealthCritical {
					critical = time.Now()
				}
			}
			if gone.IsZero() {
				if ks, _, err := agent.Client.KV().Keys(records, "", nil); err == nil && len(ks) == 0 {
					gone = time.Now()
				}
			}
		case <-limit.C:
			t.Fatalf("N=%d: %d of %d nodes saw the killed node down within %v", n, seen, n-1, ttl+10*time.Second)
		}
	}
	since := func(at time.Time) string {
		if at.IsZero() {
			return "?"
		}
		return at.Sub(killed).Round(time.Millisecond).String()
	}
	down := lastDown.Sub(killed)
	t.Logf("N=%d: kill -9 to NodeDown on every other node %v (bound TTL + 1 s = %v): check critical at the agent %s, record gone %s, first NodeDown %s (load %s)",
		n, down.Round(time.Millisecond), ttl+time.Second, since(critical), since(gone), since(firstDown), loadAvg())
	if down > ttl+time.Second {
		t.Errorf("N=%d: NodeDown %v after kill -9, bound %v", n, down, ttl+time.Second)
	}

	// A clean stop of all: every instance leaves Consul.
	stopped := time.Now()
	for _, nd := range nodes[1:] {
		nd.ch.CloseStdin()
	}
	limit.Reset(60 * time.Second)
	for _, nd := range nodes[1:] {
		select {
		case <-nd.ch.Exited():
		case <-limit.C:
			t.Fatalf("N=%d: node %s did not stop within 60 s", n, nd.ch.Name)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := consultest.WaitFor(ctx, func() bool { return instances(agent, service) <= 1 }); err != nil {
		t.Fatalf("N=%d: %d instances left after the clean stop", n, instances(agent, service))
	}
	t.Logf("N=%d: clean stop of %d nodes to their instances gone %v; converged in %v (bound %v)",
		n, n-1, time.Since(stopped).Round(time.Millisecond), convergence.Round(time.Millisecond), bound)
	if bound > 0 && convergence > bound {
		t.Errorf("N=%d: converged in %v, bound %v", n, convergence, bound)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// passing counts the passing checks of service's instances (agent-local).
func passing(agent *consultest.Agent, service string) int {
	checks, err := agent.Client.Agent().ChecksWithFilter(fmt.Sprintf("ServiceName == %q", service))
	if err != nil {
		return -1
	}
	c := 0
	for _, ch := range checks {
		if ch.Status == api.HealthPassing {
			c++
		}
	}
	return c
}

// instances counts the instances of service registered with the agent
// (the killed node's stays until Consul deregisters it: 1 is none left).
func instances(agent *consultest.Agent, service string) int {
	ss, err := agent.Client.Agent().ServicesWithFilter(fmt.Sprintf("Service == %q", service))
	if err != nil {
		return -1
	}
	return len(ss)
}

func childrenCPU(nodes []*scaleNode) time.Duration {
	var sum time.Duration
	for _, nd := range nodes {
		if nd.ch.Alive() {
			sum += procCPU(nd.ch.Cmd.Process.Pid)
		}
	}
	return sum
}

// procCPU is the user and system CPU time of process pid (Linux; 0
// elsewhere), from /proc/pid/stat in clock ticks of 10 ms.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:])) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+s) * 10 * time.Millisecond
}

// agentConns counts the established TCP connections to the agent's HTTP
// port (Linux, from /proc/net/tcp; -1 elsewhere). Consul refuses a client
// address's connections beyond limits.http_max_conns_per_client (200).
func agentConns(agent *consultest.Agent) int {
	_, p, _ := strings.Cut(agent.Addr, ":")
	port, _ := strconv.Atoi(p)
	b, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		return -1
	}
	local := fmt.Sprintf(":%04X", port)
	c := 0
	for _, l := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(l)
		if len(f) > 3 && strings.HasSuffix(f[1], local) && f[3] == "01" {
			c++
		}
	}
	return c
}

// schedStat sums, over the threads of process pid, the time they ran and
// the time they waited on a run queue (Linux /proc/pid/task/*/schedstat;
// 0 elsewhere): on a shared machine, what the process was kept from.
func schedStat(pid int) (run, wait time.Duration) {
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	for _, task := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/schedstat", pid, task.Name()))
		if f := strings.Fields(string(b)); err == nil && len(f) >= 2 {
			r, _ := strconv.ParseInt(f[0], 10, 64)
			w, _ := strconv.ParseInt(f[1], 10, 64)
			run += time.Duration(r)
			wait += time.Duration(w)
		}
	}
	return run, wait
}

// selfCPU is the CPU time this process has used.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

// runScaleChildIfAsked runs a scale child: a node that joins on Consul,
// registers the name svc-<name>, says MEMBERS once it sees SB_N members
// and NAMES once it sees SB_N entries too, then DOWN x and UP x for every
// change, and leaves cleanly when its stdin closes.
func runScaleChildIfAsked() bool {
	name := os.Getenv(scaleChildEnv)
	if name == "" {
		return false
	}
	want, _ := strconv.Atoi(os.Getenv("SB_N"))
	say, fail := childLines()
	n, err := actor.Start(actor.Config{Name: name + "@scale", Listen: "127.0.0.1:0", Logger: quiet()})
	if err != nil {
		fail(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if path := os.Getenv("SB_PROF_" + name); path != "" { // a CPU profile of the join, until the node saw everyone
		if f, err := os.Create(path); err == nil && pprof.StartCPUProfile(f) == nil {
			defer pprof.StopCPUProfile()
		}
	}
	before := selfCPU()
	c, err := cluster.Join(ctx, n, cluster.Config{Provider: providerFromEnv(), Logger: quiet()})
	if err != nil {
		fail(err)
	}
	say("JOINED %d %d", before.Microseconds(), selfCPU().Microseconds())
	var converged atomic.Bool
	c.OnEvent(func(ev cluster.Event) {
		who := strings.TrimSuffix(ev.Member.Name, "@scale")
		switch {
		case ev.Kind == cluster.NodeDown:
			say("DOWN %s", who)
		case converged.Load():
			say("UP %s", who)
		}
	})
	if err := c.Register(ctx, "svc-"+name); err != nil {
		fail(err)
	}
	stop := make(chan struct{})
	polled := make(chan struct{})
	go func() { // until converged: a 10 ms resolution is enough for seconds
		defer close(polled)
		members := false
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			st := c.Stats()
			if !members && st.Members >= want {
				say("MEMBERS")
				members = true
			}
			if members && st.Names >= want {
				say("NAMES %d", selfCPU().Microseconds())
				pprof.StopCPUProfile()
				converged.Store(true)
				return
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n') // until the parent closes stdin (or dies)
	close(stop)
	<-polled
	lctx, lcancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer lcancel()
	if err := c.Leave(lctx); err != nil {
		say("ERR leave: %v", err)
	}
	_ = n.Stop(lctx)
	os.Exit(0)
	return true
}
