package documents

import (
	"context"
	"fmt"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/examples/umbrella/internal/stats"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/exchange/tasks"
	"github.com/switchboard-go/switchboard/patterns"
	"github.com/switchboard-go/switchboard/release"
	"github.com/switchboard-go/switchboard/supervisor"
)

// CheckerName is the name of the application Checker.
const CheckerName = "documents"

// Counters of the application Checker, in its node's stats.
const (
	Checked     = "documents.checked"     // acked: checked and clean
	Retried     = "documents.nacked"      // nacked, for another delivery
	Redelivered = "documents.redelivered" // deliveries of a document delivered before
	Rejected    = "documents.rejected"    // rejected: dead-lettered at once
	DeadPrefix  = "documents.dead."       // + the cause: dead letters quarantined
)

// Checker is the application documents: a checker of the queue and a
// quarantine worker of its dead-letter queue.
func Checker(st *stats.Set) release.App {
	return release.App{
		Keys: Keys,
		Start: func(ctx context.Context, n *actor.Node, env release.Env, _ supervisor.StartType) (*actor.PID, error) {
			cfg := ConfigFrom(env)
			j := openJournal(cfg.Journal, n.Name())
			return supervisor.Start(ctx, n, supervisor.Spec{
				Strategy: supervisor.OneForOne,
				Children: []supervisor.ChildSpec{
					patterns.WorkerSpec("checker", func() *patterns.Worker {
						return patterns.NewWorker(exchange.Named(cfg.Queue), cfg.Prefetch, func(w *patterns.Worker, t *tasks.Task) {
							check(w, t, st, j)
						})
					}),
					supervisor.TaskSupervisor("tasks", supervisor.TaskSupervisorSpec{Funcs: map[string]supervisor.TaskFunc{
						ScanTask: func(_ context.Context, args proto.Message) (proto.Message, error) { return scan(n, args, st) },
					}}, actor.WithName(TaskSupervisorName)),
					patterns.WorkerSpec("quarantine", func() *patterns.Worker {
						return patterns.NewWorker(exchange.Named(cfg.DeadLetter), 16, patterns.AckOnReturn(func(_ context.Context, t *tasks.Task) error {
							if dl, ok := t.Msg.(*tasks.DeadLetter); ok {
								if err := j.add(deadEntry(dl)); err != nil {
									return err // not settled unrecorded: delivered again
								}
								st.Add(DeadPrefix+causeName(dl.GetCause()), 1)
							}
							return nil
						}))
					}),
				},
			})
		},
	}
}

// The task supervisor of the application Checker: registered as
// TaskSupervisorName on each checker node, it runs ScanTask for callers
// on any node (actor.NamedPID(address, TaskSupervisorName)).
const (
	TaskSupervisorName = "documents.tasks"
	ScanTask           = "scan"
	Scanned            = "documents.scanned" // counter: scans run here
)

// scan checks a document at once, for supervisor.Async or Run on this
// node: a Verdict, or an error for what is not a document.
func scan(n *actor.Node, args proto.Message, st *stats.Set) (proto.Message, error) {
	doc, ok := args.(*Document)
	if !ok {
		return nil, fmt.Errorf("documents: scan wants a Document, got %T", args)
	}
	st.Add(Scanned, 1)
	v := &Verdict{Id: doc.GetId(), Clean: true, CheckedBy: n.Name()}
	if strings.HasSuffix(doc.GetName(), ".exe") {
		v.Clean, v.Reason = false, "an executable, not a document"
	}
	return v, nil
}

// check settles one delivery of a document, journaled first (j, if
// set); a document whose entry cannot be written is nacked.
func check(w *patterns.Worker, t *tasks.Task, st *stats.Set, j *journal) {
	if t.Redelivered() {
		st.Add(Redelivered, 1)
	}
	doc, ok := t.Msg.(*Document)
	switch {
	case !ok:
		_ = w.Reject(t.Tag, "not a document")
		st.Add(Rejected, 1)
	case strings.HasSuffix(doc.GetName(), ".exe"):
		if j.add(Entry{ID: doc.GetId(), Outcome: OutcomeRejected}) != nil {
			_ = w.Nack(t.Tag)
			return
		}
		_ = w.Reject(t.Tag, "an executable, not a document")
		st.Add(Rejected, 1)
	case uint32(t.Deliveries) <= doc.GetFailFirst():
		_ = w.Nack(t.Tag)
		st.Add(Retried, 1)
	default:
		if j.add(Entry{ID: doc.GetId(), Outcome: OutcomeChecked}) != nil {
			_ = w.Nack(t.Tag)
			return
		}
		_ = w.Ack(t.Tag)
		st.Add(Checked, 1)
	}
}

func causeName(c tasks.DeadCause) string {
	switch c {
	case tasks.DeadCause_DEAD_CAUSE_DELIVERY_LIMIT:
		return "delivery_limit"
	case tasks.DeadCause_DEAD_CAUSE_REJECTED:
		return "rejected"
	case tasks.DeadCause_DEAD_CAUSE_BAD_PAYLOAD:
		return "bad_payload"
	}
	return "unknown"
}
