package history

import (
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"
)

// Summary is what a history holds, in numbers.
type Summary struct {
	Ops    map[string]OpCount // by operation kind
	Faults map[string]int     // by fault kind, injected
	// Stalls counts a process stalled by the machine (FaultStall, not
	// injected), and LongestStall the longest.
	Stalls       int
	LongestStall time.Duration
	Failures     map[string]int           // by typed error
	Outage       map[string]time.Duration // longest unavailability by exchange
	Exchange     map[string]OpCount       // operations by exchange
	// P99 of successful operations' latency, invoked during a fault and outside.
	P99Fault, P99Calm time.Duration
	Starts            map[string]int // instance starts by distributed application
	Gaps              int            // events missed by a subscriber whose node (or the publisher's) a fault touched
	VolatileLost      int            // volatile tasks lost with their queue's instance (Config.Volatile)
	// CalmMoves counts instances started or stopped with no fault that can
	// move an application (any but a slow consumer or a skewed clock)
	// within Settle: a distributed application that moved or restarted on
	// its own (its lock lost: the membership provider slower than its
	// bound).
	CalmMoves  int
	Violations int
}

// OpCount counts operations of one kind by outcome.
type OpCount struct{ Total, OK, Failed, Open int }

func summarise(h *hist, settle time.Duration) Summary {
	s := Summary{Ops: map[string]OpCount{}, Faults: map[string]int{}, Failures: map[string]int{}, Outage: map[string]time.Duration{}, Exchange: map[string]OpCount{}}
	var fault, calm []time.Duration
	type state struct {
		down  bool
		since time.Time
	}
	ex := map[string]*state{}
	for _, op := range h.ops {
		c := s.Ops[op.Kind]
		c.Total++
		switch op.Outcome {
		case OutcomeOK:
			c.OK++
			if !op.Complete.IsZero() {
				if h.duringFault(op.Invoke) {
					fault = append(fault, op.Complete.Sub(op.Invoke))
				} else {
					calm = append(calm, op.Complete.Sub(op.Invoke))
				}
			}
		case OutcomeError:
			c.Failed++
			s.Failures[op.Err]++
		default:
			c.Open++
		}
		s.Ops[op.Kind] = c
		if op.Exchange == "" {
			continue
		}
		e := s.Exchange[op.Exchange]
		e.Total++
		switch op.Outcome {
		case OutcomeOK:
			e.OK++
		case OutcomeError:
			e.Failed++
		default:
			e.Open++
		}
		s.Exchange[op.Exchange] = e
		if op.Outcome == "" {
			continue
		}
		st := ex[op.Exchange]
		if st == nil {
			st = &state{}
			ex[op.Exchange] = st
			s.Outage[op.Exchange] = 0
		}
		switch {
		case op.Outcome == OutcomeError && !st.down:
			st.down, st.since = true, op.Invoke
		case op.Outcome == OutcomeOK && st.down:
			st.down = false
			s.Outage[op.Exchange] = max(s.Outage[op.Exchange], op.Invoke.Sub(st.since))
		}
	}
	for name, st := range ex {
		if st.down {
			s.Outage[name] = max(s.Outage[name], h.end.Sub(st.since))
		}
	}
	for _, f := range h.faults {
		if f.Kind == FaultStall {
			if h.paused(f) {
				continue // the injected pause, seen by the paused process
			}
			s.Stalls++
			s.LongestStall = max(s.LongestStall, h.faultEnd(f).Sub(f.Invoke))
			continue
		}
		s.Faults[f.Kind]++
	}
	s.Starts = map[string]int{}
	for _, in := range h.instances {
		if in.Kind == "start" {
			s.Starts[in.App]++
		}
		// Within the load (not the start and the end of the nodes).
		if len(h.ops) > 0 && in.Invoke.After(h.ops[0].Invoke) && in.Invoke.Before(h.ops[len(h.ops)-1].Invoke) &&
			!h.liveness(in.Invoke.Add(-settle), in.Invoke.Add(settle)) {
			s.CalmMoves++
		}
	}
	s.P99Fault, s.P99Calm = p99(fault), p99(calm)
	return s
}

func p99(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[(len(ds)*99+99)/100-1]
}

// Print writes the summary as tables.
func (s Summary) Print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "operation\ttotal\tok\tfailed\tunanswered\t")
	for _, k := range sortedKeys(s.Ops) {
		c := s.Ops[k]
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t\n", k, c.Total, c.OK, c.Failed, c.Open)
	}
	fmt.Fprintln(tw, "\t\t\t\t\t")
	fmt.Fprintln(tw, "fault\tinjected\t")
	for _, k := range sortedKeys(s.Faults) {
		fmt.Fprintf(tw, "%s\t%d\t\n", k, s.Faults[k])
	}
	fmt.Fprintln(tw, "\t\t")
	fmt.Fprintln(tw, "failure\tcount\t")
	for _, k := range sortedKeys(s.Failures) {
		fmt.Fprintf(tw, "%s\t%d\t\n", k, s.Failures[k])
	}
	fmt.Fprintln(tw, "\t\t")
	fmt.Fprintln(tw, "exchange\toperations\tfailed\tlongest unavailability\t")
	for _, k := range sortedKeys(s.Outage) {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%v\t\n", k, s.Exchange[k].Total, s.Exchange[k].Failed, s.Outage[k].Round(time.Millisecond))
	}
	fmt.Fprintln(tw, "\t\t")
	fmt.Fprintln(tw, "application\tinstances started\t")
	for _, k := range sortedKeys(s.Starts) {
		fmt.Fprintf(tw, "%s\t%d\t\n", k, s.Starts[k])
	}
	_ = tw.Flush()
	fmt.Fprintf(w, "\np99 latency: %v during faults, %v outside\n", s.P99Fault.Round(time.Microsecond), s.P99Calm.Round(time.Microsecond))
	fmt.Fprintf(w, "processes stalled by the machine (not injected): %d, the longest %v\n", s.Stalls, s.LongestStall.Round(time.Millisecond))
	fmt.Fprintf(w, "event gaps (excused by a fault): %d\n", s.Gaps)
	fmt.Fprintf(w, "volatile tasks lost with their queue's instance (excused): %d\n", s.VolatileLost)
	fmt.Fprintf(w, "instances started or stopped with no fault near (a lock lost on its own): %d\n", s.CalmMoves)
	fmt.Fprintf(w, "violations: %d\n", s.Violations)
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// liveness reports whether a fault that can move an application (one
// that stops a node, its links or the membership provider: any but a slow
// consumer or a skewed clock) overlaps [from, to].
func (h *hist) liveness(from, to time.Time) bool {
	for _, f := range h.faults {
		if f.Kind != "slow" && f.Kind != "skew" && !f.Invoke.After(to) && !h.faultEnd(f).Before(from) {
			return true
		}
	}
	return false
}

// paused reports whether the stall f lies within an injected pause of its
// node (give or take a second).
func (h *hist) paused(f Record) bool {
	for _, p := range h.faults {
		if p.Kind == FaultPause && slices.Equal(p.Nodes, f.Nodes) &&
			!f.Invoke.Before(p.Invoke.Add(-time.Second)) && !h.faultEnd(f).After(h.faultEnd(p).Add(time.Second)) {
			return true
		}
	}
	return false
}
