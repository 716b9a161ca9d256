package main

import (
	"encoding/json"
	"fmt"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-go/switchboard/internal/fanout"
)

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

func moduleVersion(path string) string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == path {
				return d.Version
			}
		}
	}
	return "(version unknown)"
}

func fmtDur(d time.Duration) string {
	switch {
	case d <= 0:
		return "—"
	case d < time.Millisecond:
		return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond))
	case d < time.Second:
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}

func fmtBytes(b float64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.2f GiB", b/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MiB", b/(1<<20))
	case b >= 10<<10:
		return fmt.Sprintf("%.0f KiB", b/(1<<10))
	}
	return fmt.Sprintf("%.0f B", b)
}

// find is the run of sys for (t, s), if any.
func (r *Report) find(t Topology, sys System, s Shape) (Run, bool) {
	for _, x := range r.Runs {
		if x.Topology == t && x.System == sys && x.Shape == s {
			return x, true
		}
	}
	return Run{}, false
}

func cell(r Run, ok bool) string {
	switch {
	case !ok:
		return "not run"
	case r.Absent != "":
		return "—"
	case r.Failed() != "":
		return "**failed**"
	}
	if c := r.CPUPerCycle(); c > 0 {
		return fmt.Sprintf("%s · %s", thousands(int(r.Outcome.Rate()+0.5)), fmtCPU(c))
	}
	return thousands(int(r.Outcome.Rate() + 0.5))
}

// Markdown renders the report: the comparison, latency and CPU, memory, the
// published figures and the machine.
func (r *Report) Markdown(chart string) string {
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	m := r.Machine
	w("Measured %s on %d cores (%s), %s of memory, Linux %s, %s. The whole comparison took %v.\n\n",
		r.Started.UTC().Format("2006-01-02 15:04 UTC"), m.Cores, m.CPUModel, fmtBytes(float64(m.MemTotal)), m.Kernel, m.Go,
		r.Took.Round(time.Second))
	w("Load average when it started: %s. Processes outside the benchmark used %.0f %% of one core on average while shapes ran", m.LoadAvg, r.Others)
	if r.Steal >= 1 {
		w(", and the hypervisor gave %.0f %% of one core to other machines", r.Steal)
	}
	if r.Others+r.Steal >= 10 {
		w(" — **the machine was shared: treat the absolute numbers as noisy; the ratios, measured interleaved, hold better**")
	}
	w(".\n\nSoftware: %s.\n\n", strings.Join(r.Versions, "; "))

	if len(r.Config.Topologies) > 0 && len(r.Config.Shapes) > 0 {
		r.seedMarkdown(w, chart)
	}
	if len(r.Config.DurableTopologies) > 0 && len(r.Config.DurableShapes) > 0 {
		r.durableMarkdown(w)
	}
	w("\n### Memory\n\n")
	if len(r.Memory) > 0 || len(r.Errors) > 0 {
		w("Idle processes, each kind started in a fresh OS process; live heap after a full GC, before and after.\n\n")
		w("| what | how many | heap each | goroutine stacks each | resident memory each | time to start them |\n|---|---:|---:|---:|---:|---:|\n")
		for _, mem := range r.Memory {
			what := mem.What
			if mem.GroupSize > 0 {
				what += fmt.Sprintf(" (joined, %d per exchange; includes its entry in the exchange)", mem.GroupSize)
			}
			w("| %s | %s | %s | %s | %s | %v |\n", what, thousands(mem.Count), fmtBytes(mem.HeapBytes), fmtBytes(mem.StackByte),
				fmtBytes(mem.RSSBytes), mem.Took.Round(time.Millisecond))
			if mem.Exchanges > 0 {
				w("| idle exchange (no controller) | %s | %s | | | |\n", thousands(mem.Exchanges), fmtBytes(mem.ExchangeBytes))
			}
		}
		for _, e := range r.Errors {
			w("| **failed**: %s | | | | | |\n", mdEscape(clip(e, 300)))
		}
		w("\n")
	}
	w("Resident memory of each process at the end of its topology's shapes (peak: the process's high-water mark; the broker lives through every topology):\n\n")
	w("| topology | system | process | resident | peak |\n|---|---|---|---:|---:|\n")
	for _, p := range r.RSS {
		if p.Err != "" {
			w("| %s | %s | %s | **failed**: %s | |\n", p.Topology, p.System, p.Role, mdEscape(clip(p.Err, 200)))
			continue
		}
		w("| %s | %s | %s | %s | %s |\n", p.Topology, p.System, p.Role, fmtBytes(float64(p.RSS)), fmtBytes(float64(p.Peak)))
	}

	r.fanOutMarkdown(w)

	w("\n### Published figures (other hardware, not measured here)\n\n")
	w("The Erlang messaging system of the seed article, cycles/s (column *Erlang seed* above): one node on an old mobile Intel i7; ")
	w("three nodes as Docker containers over NAT on a 10G network; CPU never above 250 %%. It published no figure for the exchange on the controller's node.\n\n")
	w("OpenStack performance-docs, RabbitMQ through oslo.messaging, client and server on the master, HA queues off, section \"RPC CALL\"; ")
	w("three RabbitMQ nodes on 2× Xeon E5-2680 v3 servers, 10G network:\n\n")
	w("| threads | msg/s | latency |\n|---:|---:|---:|\n")
	for _, o := range openStackRPC {
		w("| %d | %s | %.1f ms |\n", o.Threads, fmtFloat(o.MsgPerSec), o.LatencyMs)
	}
	w("\nRPC CAST (one way, no reply) peaked at %s msg/s with 100 threads; the seed article's section number points at that table.\n", fmtFloat(openStackCastPeak))
	return b.String()
}

func fmtFloat(v float64) string {
	whole, frac, _ := strings.Cut(fmt.Sprintf("%.1f", v), ".")
	n, _ := strconv.Atoi(whole)
	return thousands(n) + "." + frac
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func mdEscape(s string) string { return strings.ReplaceAll(oneLine(s), "|", "\\|") }

// seedMarkdown renders the seed's shapes: the comparison, latency and CPU.
func (r *Report) seedMarkdown(w func(string, ...any), chart string) {
	m := r.Machine
	systems := r.Config.Systems
	w("### Cycles per second\n\n")
	w("One cycle: a client sends `ping` to the exchange (RabbitMQ: a queue; NATS: a subject) and waits for `pong`. ")
	w("Each cell: cycles/s · CPU per cycle (the user + system time of the topology's processes, summed, over the cycles; on two busy cores it decides the throughput). ")
	w("Targets: across nodes ≥ 1.2× NATS and ≥ 75 %% of bare TCP; in one node ≥ 10× RabbitMQ and ≥ 5× NATS. ")
	w("Every shape of every system ran in this one invocation, the systems taking turns shape by shape.\n\n")
	w("| topology | shape |")
	for _, s := range systems {
		w(" %s |", s)
	}
	// Switchboard over each other system, RabbitMQ always among them.
	var bases []System
	if has(systems, Switchboard) {
		for _, sys := range systems {
			if sys != Switchboard {
				bases = append(bases, sys)
			}
		}
	}
	for _, sys := range bases {
		w(" Switchboard ÷ %s |", sys)
	}
	if len(bases) > 0 {
		w(" target |")
	}
	w(" Erlang seed, published (other hardware) |\n|---|---|")
	for range systems {
		w("---:|")
	}
	for range bases {
		w("---:|")
	}
	if len(bases) > 0 {
		w("---|")
	}
	w("---:|\n")
	for _, t := range r.Config.Topologies {
		for _, s := range r.Config.Shapes {
			w("| %s | %s |", t, s.Label())
			for _, sys := range systems {
				run, ok := r.find(t, sys, s)
				w(" %s |", cell(run, ok))
			}
			for _, base := range bases {
				x, vs, ok := r.against(Switchboard, base, t, s)
				switch {
				case !ok:
					w(" — |")
				case vs != t:
					w(" %.2f× (vs its three processes) |", x)
				default:
					w(" %.2f× |", x)
				}
			}
			if len(bases) > 0 {
				w(" %s |", r.verdict(t, s))
			}
			if v, ok := erlangSeed[t][s]; ok {
				w(" %s |\n", thousands(int(v)))
			} else {
				w(" — |\n")
			}
		}
	}
	w("\nTopologies: *one node* — client, exchange and controller in one OS process (RabbitMQ, NATS: client and server in one process, the broker beside it); ")
	w("*three nodes* — client, exchange and controller in three OS processes on loopback (RabbitMQ, NATS: client, broker, server); ")
	w("*exchange on the controller's node* — two processes; a broker cannot host its server, so the ratio compares with RabbitMQ's three processes. ")
	w("RabbitMQ: `amqp091-go`, direct reply-to, one persistent connection per process, one channel per caller, no acks or confirms (its fastest RPC). ")
	w("Switchboard: `patterns.Client.Call` to a RoundRobin exchange with one controller. ")
	if has(systems, BareTCP) {
		w("*Bare TCP* is the floor, not a competitor: the same processes pass 8-byte frames over plain loopback TCP, ")
		w("no framework, no encoding, no routing (the client's callers share a connection and get their pongs from one reader goroutine; ")
		w("relay and echo write each frame on, flushing when their read buffer is empty): ")
		w("across nodes the target is a share of it, what this machine allows at most. ")
	}
	if r.Config.Shapes[len(r.Config.Shapes)-1].Cycles < 100000 {
		w("**Cycles were scaled down for this run.** ")
	}
	w("\n\n")
	if chart != "" {
		w("![cycles per second, one bar per system](%s)\n\n", chart)
	}

	w("### Latency and CPU\n\n")
	w("CPU: each process's user + system time (from `/proc/<pid>/stat`) over the shape's wall time, in %% of one core; the machine has %d.\n\n", m.Cores)
	w("| topology | shape | system | cycles/s | CPU per cycle | p50 | p99 | p99.9 | CPU per process |\n|---|---|---|---:|---:|---:|---:|---:|---|\n")
	for _, t := range r.Config.Topologies {
		for _, s := range r.Config.Shapes {
			for _, sys := range systems {
				run, ok := r.find(t, sys, s)
				if !ok || run.Absent != "" {
					continue
				}
				if e := run.Failed(); e != "" {
					w("| %s | %s | %s | **failed**: %s | | | | | |\n", t, s.Label(), sys, mdEscape(clip(e, 300)))
					continue
				}
				l := run.Outcome.Latency
				w("| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", t, s.Label(), sys, thousands(int(run.Outcome.Rate()+0.5)),
					fmtCPU(run.CPUPerCycle()), fmtDur(l.P50), fmtDur(l.P99), fmtDur(l.P999), run.cpuList())
			}
		}
	}

}

// cpuList is each process's CPU, "role N %, …", for the tables.
func (r Run) cpuList() string {
	var cpu []string
	for _, c := range r.CPU {
		cpu = append(cpu, fmt.Sprintf("%s %.0f %%", c.Role, c.Percent))
	}
	return strings.Join(cpu, ", ")
}

// fanOutMarkdown is the fan-out section: one publish to many subscribers
// on many nodes, beside Ergo's published figure.
func (r *Report) fanOutMarkdown(w func(string, ...any)) {
	if r.FanOut == nil && r.FanOutErr == "" {
		return
	}
	w("\n### Fan-out\n\n")
	if r.FanOut == nil {
		w("**failed**: %s\n", mdEscape(clip(r.FanOutErr, 400)))
		return
	}
	f := *r.FanOut
	c := f.Config
	w("One publish to %s subscriptions on %d nodes, in one fresh OS process over loopback TCP (`internal/fanout`): a hub node with the pub-sub exchange and no subscriber, and %d nodes with a proxy of it each (`pubsub.Spec.Upstream`), %s subscriber processes per node with %d tags each. ",
		thousands(c.Nodes*c.Procs*c.Tags), c.Nodes, c.Nodes, thousands(c.Procs), c.Tags)
	w("Time: from `patterns.Publish` at the hub until every subscription's delivery reached its process's `HandleInfo`; frames: the frames all %d nodes sent meanwhile (the transport's count, ticks excepted). %d publishes, one after the other; setup (nodes, spawns, subscriptions) %v. ",
		c.Nodes+1, len(f.Publishes), f.Setup.Round(time.Millisecond))
	w("Target: ≤ 250 ms, with exactly %d network messages (one from the hub to each node). Ergo published 342 ms and 10 messages for 100,000 subscriber processes on each of 10 nodes (Apple M4 Max).\n\n", c.Nodes)
	frames := "differ between publishes"
	if n := f.Frames(); n >= 0 {
		frames = thousands(n)
	}
	med := f.Median()
	verdict := "met"
	if med > 250*time.Millisecond || f.Frames() != c.Nodes {
		verdict = "**not met**"
	}
	w("| median publish | each publish | frames per publish | CPU per delivery | allocations per delivery | goroutines started per delivery | live heap | target |\n|---:|---|---:|---:|---:|---:|---:|---|\n")
	var each []string
	for _, p := range f.Publishes {
		each = append(each, p.Took.Round(time.Millisecond).String())
	}
	w("| %v | %s | %s | %.0f ns | %.3f | %.4f | %s | ≤ 250 ms and %d frames: %s |\n", med.Round(time.Millisecond), strings.Join(each, ", "), frames,
		f.perDelivery(func(p fanout.Publish) float64 { return float64(p.CPU.Nanoseconds()) }),
		f.perDelivery(func(p fanout.Publish) float64 { return float64(p.Allocs) }),
		f.perDelivery(func(p fanout.Publish) float64 { return float64(p.Goroutines) }),
		fmtBytes(f.HeapBytes), c.Nodes, verdict)
}
