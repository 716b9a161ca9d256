package main

import (
	"fmt"
	"io"

	"github.com/switchboard-go/switchboard/exchange/tasks"
	"github.com/switchboard-go/switchboard/patterns"
)

// cmdSubmit is "submit EXCHANGE MSG": one task to the task queue, returned
// once the queue has confirmed it.
func cmdSubmit(s *session, args []string) (any, func(io.Writer), error) {
	if len(args) != 2 {
		return nil, nil, fmt.Errorf("%w: submit takes EXCHANGE MSG", errBadMessage)
	}
	msg, err := message(s.msgType, args[1])
	if err != nil {
		return nil, nil, err
	}
	e, err := s.find(tasks.Kind, args[0])
	if err != nil {
		return nil, nil, err
	}
	if err := patterns.NewTasks(s.n).Submit(s.ctx, e.at(), msg); err != nil {
		return nil, nil, fmt.Errorf("submit to %s on %s: %w", e.Name, e.Node, err)
	}
	p := published{Exchange: e.Name, Node: e.Node, Type: s.msgType}
	return p, func(w io.Writer) { fmt.Fprintf(w, "submitted %s to %s on %s\n", p.Type, p.Exchange, p.Node) }, nil
}
