package documents

import (
	"context"
	"strings"

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
			return supervisor.Start(ctx, n, supervisor.Spec{
				Strategy: supervisor.OneForOne,
				Children: []supervisor.ChildSpec{
					patterns.WorkerSpec("checker", func() *patterns.Worker {
						return patterns.NewWorker(exchange.Named(cfg.Queue), cfg.Prefetch, func(w *patterns.Worker, t *tasks.Task) {
							check(w, t, st)
						})
					}),
					patterns.WorkerSpec("quarantine", func() *patterns.Worker {
						return patterns.NewWorker(exchange.Named(cfg.DeadLetter), 16, patterns.AckOnReturn(func(_ context.Context, t *tasks.Task) error {
							if dl, ok := t.Msg.(*tasks.DeadLetter); ok {
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

// check settles one delivery of a document.
func check(w *patterns.Worker, t *tasks.Task, st *stats.Set) {
	if t.Redelivered() {
		st.Add(Redelivered, 1)
	}
	doc, ok := t.Msg.(*Document)
	switch {
	case !ok:
		_ = w.Reject(t.Tag, "not a document")
		st.Add(Rejected, 1)
	case strings.HasSuffix(doc.GetName(), ".exe"):
		_ = w.Reject(t.Tag, "an executable, not a document")
		st.Add(Rejected, 1)
	case uint32(t.Deliveries) <= doc.GetFailFirst():
		_ = w.Nack(t.Tag)
		st.Add(Retried, 1)
	default:
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
