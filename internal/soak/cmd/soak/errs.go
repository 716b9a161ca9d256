package main

import (
	"context"
	"errors"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/cluster"
	"github.com/switchboard-go/switchboard/examples/umbrella/apps/subscriptions"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/exchange/tasks"
	"github.com/switchboard-go/switchboard/internal/soak/history"
	"github.com/switchboard-go/switchboard/patterns"
)

// typed names the typed error err is, or history.ErrUntyped.
func typed(err error) string {
	var exit *actor.ExitError
	for _, t := range []struct {
		name string
		err  error
	}{
		{history.ErrTimeout, actor.ErrTimeout}, {"node-down", actor.ErrNodeDown}, {"no-process", actor.ErrNoProcess},
		{"node-stopped", actor.ErrNodeStopped}, {"transport", actor.ErrTransport}, {"overloaded", actor.ErrOverloaded},
		{"exchange-not-found", exchange.ErrExchangeNotFound}, {"no-controller", exchange.ErrNoController},
		{"rejected", exchange.ErrRejected}, {"queue-full", tasks.ErrQueueFull}, {"store", tasks.ErrStore},
		{"deadline", context.DeadlineExceeded}, {"not-leader", subscriptions.ErrNotLeader}, {"not-leader", tasks.ErrNotLeader},
		{"stale", exchange.ErrStale}, {"stream-crashed", patterns.ErrStreamCrashed},
		{"provider-unavailable", cluster.ErrUnavailable}, // a name looked up in Consul, which did not answer
	} {
		if errors.Is(err, t.err) {
			return t.name
		}
	}
	if errors.As(err, &exit) {
		return "controller-exit"
	}
	return history.ErrUntyped
}
