package documents

import (
	"context"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/exchange/tasks"
	"github.com/switchboard-go/switchboard/patterns"
	"github.com/switchboard-go/switchboard/release"
	"github.com/switchboard-go/switchboard/supervisor"
)

// QueueName is the name of the distributed application Queue.
const QueueName = "documents_queue"

// Queue is the distributed application documents_queue: the dead-letter
// queue, then the queue that dead-letters to it.
func Queue() release.App {
	return release.App{
		Keys: Keys,
		Start: func(ctx context.Context, n *actor.Node, env release.Env, _ supervisor.StartType) (*actor.PID, error) {
			cfg := ConfigFrom(env)
			return supervisor.Start(ctx, n, supervisor.Spec{
				Strategy: supervisor.OneForOne,
				Children: []supervisor.ChildSpec{
					tasks.ChildSpec(tasks.Spec{Name: cfg.DeadLetter, MaxDeliveries: tasks.Unlimited}),
					tasks.ChildSpec(tasks.Spec{
						Name:          cfg.Queue,
						AckTimeout:    cfg.AckTimeout,
						MaxDeliveries: cfg.MaxDeliveries,
						DeadLetter:    exchange.Named(cfg.DeadLetter),
					}),
				},
			})
		},
	}
}

// Upload submits a document for checking; it returns once the queue
// holds it.
func Upload(ctx context.Context, t *patterns.Tasks, cfg Config, doc *Document) error {
	cfg = cfg.WithDefaults()
	return t.Submit(ctx, exchange.Named(cfg.Queue), doc)
}
