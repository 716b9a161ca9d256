package history

import (
	"fmt"
	"time"
)

// checkTasks: every confirmed task has its effect applied, but for a
// volatile task lost with its queue's instance within cfg.Volatile of the
// confirm (counted).
func checkTasks(h *hist, cfg Config) ([]Violation, int) {
	applied := map[string]bool{}
	for _, e := range h.effects {
		applied[e.Key] = true
	}
	var lost []string
	var runs []instance
	excused := 0
	for _, op := range h.ops {
		if op.Kind != OpTask || op.Outcome != OutcomeOK || applied[op.Key] {
			continue
		}
		if op.Volatile {
			if runs == nil {
				runs = h.runs()
			}
			if endedWithin(runs, op.App, op.Complete, op.Complete.Add(cfg.Volatile), h.end) {
				excused++
				continue
			}
		}
		lost = append(lost, op.ID)
	}
	if len(lost) == 0 {
		return nil, excused
	}
	return []Violation{{Rule: RuleTaskLost, Ops: lost,
		Detail: fmt.Sprintf("%d confirmed tasks never applied", len(lost))}}, excused
}

// endedWithin reports whether a run of app ended in [from, to] (a run
// still open at the history's end did not end).
func endedWithin(runs []instance, app string, from, to, end time.Time) bool {
	for _, r := range runs {
		if r.app == app && !r.end.Before(from) && !r.end.After(to) && r.end.Before(end) {
			return true
		}
	}
	return false
}

// checkEffects: no key's effect applied twice.
func checkEffects(h *hist) []Violation {
	count := map[string]int{}
	var order []string
	for _, e := range h.effects {
		if count[e.Key] == 0 {
			order = append(order, e.Key)
		}
		count[e.Key]++
	}
	byKey := map[string][]string{}
	for _, op := range h.ops {
		if op.Key != "" && (op.Kind == OpTask || op.Kind == OpKeyed) {
			byKey[op.Key] = append(byKey[op.Key], op.ID)
		}
	}
	var vs []Violation
	for _, k := range order {
		if count[k] > 1 {
			vs = append(vs, Violation{Rule: RuleAppliedTwice, Ops: byKey[k],
				Detail: fmt.Sprintf("key %q applied %d times", k, count[k])})
		}
	}
	return vs
}

// checkDeadlines: every operation with a deadline ended by it plus the
// margin, and a failure names a typed error. A timeout (the client's own
// timer answering) with no fault from Settle before the operation to its
// end is a call the system left unanswered, the client's timer hiding it.
func checkDeadlines(h *hist, cfg Config) []Violation {
	var hung, late, untyped, calm []string
	for _, op := range h.ops {
		if op.Outcome == OutcomeError && (op.Err == "" || op.Err == ErrUntyped) {
			untyped = append(untyped, op.ID)
		}
		if op.Outcome == OutcomeError && op.Err == ErrTimeout && !h.anyFault(op.Invoke.Add(-cfg.Settle), op.Complete) {
			calm = append(calm, op.ID)
		}
		if op.Deadline.IsZero() {
			continue
		}
		switch {
		case op.Complete.IsZero() || op.Outcome == "":
			hung = append(hung, op.ID)
		case op.Complete.After(op.Deadline.Add(cfg.Margin + h.frozen(op.Node, op.Deadline, op.Complete))):
			late = append(late, op.ID)
		}
	}
	var vs []Violation
	if len(hung) > 0 {
		vs = append(vs, Violation{Rule: RuleHang, Ops: hung,
			Detail: fmt.Sprintf("%d operations never answered", len(hung))})
	}
	if len(late) > 0 {
		vs = append(vs, Violation{Rule: RuleHang, Ops: late,
			Detail: fmt.Sprintf("%d operations answered later than deadline + %v", len(late), cfg.Margin)})
	}
	if len(calm) > 0 {
		vs = append(vs, Violation{Rule: RuleCalmTimeout, Ops: calm,
			Detail: fmt.Sprintf("%d operations timed out with no fault within %v of them", len(calm), cfg.Settle)})
	}
	if len(untyped) > 0 {
		vs = append(vs, Violation{Rule: RuleUntyped, Ops: untyped,
			Detail: fmt.Sprintf("%d failures without a typed error", len(untyped))})
	}
	return vs
}

// checkStreams: every chunk of a stream came in order, and a stream that
// ended without an error brought every chunk (one that failed names a
// typed error, see checkDeadlines).
func checkStreams(h *hist) []Violation {
	var disorder, short []string
	for _, op := range h.ops {
		if op.Kind != OpStream {
			continue
		}
		switch {
		case op.InOrder != op.Chunks:
			disorder = append(disorder, op.ID)
		case op.Outcome == OutcomeOK && op.Chunks != op.Want:
			short = append(short, op.ID)
		}
	}
	var vs []Violation
	if len(disorder) > 0 {
		vs = append(vs, Violation{Rule: RuleStream, Ops: disorder,
			Detail: fmt.Sprintf("%d streams delivered a chunk out of order (lost, repeated or reordered)", len(disorder))})
	}
	if len(short) > 0 {
		vs = append(vs, Violation{Rule: RuleStream, Ops: short,
			Detail: fmt.Sprintf("%d streams ended without an error before their last chunk", len(short))})
	}
	return vs
}
