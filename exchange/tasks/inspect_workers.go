package tasks

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
)

// Worker is one worker of a task queue, from Workers.
type Worker struct {
	PID      *actor.PID
	Prefetch int // deliveries it takes at once
	InFlight int // deliveries it has not acked, nacked or rejected yet
}

// Workers lists the workers of the task queue at a, from any node, in the
// order they joined. Errors as Inspect's.
func Workers(ctx context.Context, n *actor.Node, a exchange.Address) ([]Worker, error) {
	pid, err := a.Resolve(ctx, n)
	if err != nil {
		return nil, err
	}
	pi, err := n.InspectProcess(ctx, pid)
	if errors.Is(err, actor.ErrNoProcess) {
		return nil, fmt.Errorf("%w: %q: %w", exchange.ErrExchangeNotFound, a.Name, err)
	}
	if err != nil {
		return nil, err
	}
	if pi.State["kind"] != Kind {
		return nil, fmt.Errorf("%w: %q is not a task queue", ErrNotTaskQueue, a.Name)
	}
	count, _ := strconv.Atoi(pi.State["workers"])
	out := make([]Worker, 0, count)
	for i := range count {
		at := "worker." + strconv.Itoa(i) + "."
		prefetch, _ := strconv.Atoi(pi.State[at+"prefetch"])
		inflight, _ := strconv.Atoi(pi.State[at+"in_flight"])
		out = append(out, Worker{PID: actor.NewPID(pi.State[at+"address"], pi.State[at+"id"]), Prefetch: prefetch, InFlight: inflight})
	}
	return out, nil
}

// Kind is the "kind" a task queue's process shows in actor.InspectProcess.
const Kind = "tasks"

// HandleInspect shows the queue's kind, gauges and workers to
// actor.InspectProcess.
func (s *tasksServer) HandleInspect(*actor.Process) map[string]string {
	st := s.q.snapshot()
	m := map[string]string{
		"kind": Kind, "queue": s.spec.Name, "ready": strconv.Itoa(st.Ready), "in_flight": strconv.Itoa(st.InFlight),
		"workers": strconv.Itoa(len(s.q.workers)), "dead_lettered": strconv.FormatUint(st.DeadLettered, 10),
	}
	for i, w := range s.q.workers {
		at := "worker." + strconv.Itoa(i) + "."
		m[at+"address"], m[at+"id"] = w.pid.GetAddress(), w.pid.GetId()
		m[at+"prefetch"], m[at+"in_flight"] = strconv.Itoa(w.prefetch), strconv.Itoa(w.outstanding)
	}
	return m
}
