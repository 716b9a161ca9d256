package main

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// The markers of the convergence section of docs/benchmarks.md, which
// "converge -docs" replaces; the rest of the page is left as it is.
const (
	convergeBegin = "<!-- seedbench:converge:begin (written by bench/ converge, do not edit by hand) -->"
	convergeEnd   = "<!-- seedbench:converge:end -->"
)

// convergeTarget is issue 19's: 100 nodes converge within 5 s.
const convergeTarget = 5 * time.Second

// Markdown renders the convergence table.
func (r *ConvergeReport) Markdown() string {
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	m := r.Machine
	w("Measured %s on %d cores (%s), Linux %s, %s; load average %s at the start.\n\n",
		r.Started.UTC().Format("2006-01-02 15:04 MST"), m.Cores, m.CPUModel, m.Kernel, m.Go, m.LoadAvg)
	w("Every node is an OS process on loopback; all are started, then told to join at once, and each registers one name. ")
	w("*Converged* is from the join to the last node seeing all members and all names; *joined* to the last `cluster.Join` returning. ")
	w("*CPU while joining* is the CPU time (user and system) of all nodes from the join to the convergence, over the number of nodes. *Idle* is the CPU the whole cluster uses in the %v after converging (100 %% = one core). Target: 100 nodes within %v.\n\n", r.Idle, convergeTarget)
	w("| nodes | provider | started in | joined | converged | target | RSS per node (mean / max) | heap per node | frames in per node | CPU while joining, per node | refused handshakes | idle CPU | load average (start → end) |\n")
	w("|---:|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---|\n")
	for _, x := range r.Runs {
		prov := x.Provider
		if x.Seeds > 0 {
			prov = fmt.Sprintf("%s, %d seed", prov, x.Seeds)
			if x.Seeds > 1 {
				prov += "s"
			}
		}
		conv := fmtDur(x.Converged)
		if x.Converged == 0 {
			conv = fmt.Sprintf("**no** (%d of %d saw all)", x.SawAll, x.Nodes)
		}
		target := ""
		if x.Nodes >= 100 {
			target = "met"
			if x.Converged == 0 || x.Converged > convergeTarget {
				target = "**not met**"
			}
		}
		w("| %d | %s | %s | %s | %s | %s | %s / %s | %s | %s | %s | %s | %.0f %% | %s → %s |\n", x.Nodes, prov,
			fmtDur(x.Launch), fmtDur(x.Joined), conv, target, fmtBytes(float64(x.RSSMean)), fmtBytes(float64(x.RSSMax)),
			fmtBytes(float64(x.HeapMean)), thousands(int(x.FramesIn)), fmtDur(x.JoinCPU), thousands(int(x.Refused)), 100*x.IdleCores, x.LoadStart, x.LoadEnd)
	}
	var provs []string
	for _, x := range r.Runs {
		if !slices.Contains(provs, x.Provider) {
			provs = append(provs, x.Provider)
		}
	}
	for _, prov := range provs {
		if lo, hi, ok := r.span(prov); ok {
			peers := float64(hi.Nodes - lo.Nodes)
			w("\nWith %s, from %d to %d nodes, each further peer costs a node %s of heap and %s of resident memory.\n",
				prov, lo.Nodes, hi.Nodes, fmtBytes((float64(hi.HeapMean)-float64(lo.HeapMean))/peers), fmtBytes((float64(hi.RSSMean)-float64(lo.RSSMean))/peers))
		}
	}
	for _, x := range r.Runs {
		if x.Err != "" {
			w("\n%d nodes (%s): %s\n", x.Nodes, x.Provider, x.Err)
		}
	}
	return b.String()
}

// span is the smallest and the largest cluster of provider prov measured
// whole, if they differ.
func (r *ConvergeReport) span(prov string) (lo, hi ConvergeRun, ok bool) {
	for _, x := range r.Runs {
		if x.Provider != prov || x.HeapMean == 0 || x.RSSMean == 0 {
			continue
		}
		if !ok || x.Nodes < lo.Nodes {
			lo = x
		}
		if !ok || x.Nodes > hi.Nodes {
			hi = x
		}
		ok = true
	}
	return lo, hi, ok && hi.Nodes > lo.Nodes
}
