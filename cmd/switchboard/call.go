package main

import (
	"fmt"
	"io"

	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/patterns"
)

// cmdCall is "call EXCHANGE MSG": one request through the request-response
// exchange, wherever in the cluster it runs; the reply as protojson.
func cmdCall(s *session, args []string) (any, func(io.Writer), error) {
	if len(args) != 2 {
		return nil, nil, fmt.Errorf("%w: call takes EXCHANGE MSG", errBadMessage)
	}
	msg, err := message(s.msgType, args[1])
	if err != nil {
		return nil, nil, err
	}
	e, err := s.find(exchange.Kind, args[0])
	if err != nil {
		return nil, nil, err
	}
	v, err := patterns.NewClient(s.n).Call(s.ctx, e.at(), msg)
	if err != nil {
		return nil, nil, fmt.Errorf("call %s on %s: %w", e.Name, e.Node, err)
	}
	view, text := reply(v)
	return view, func(w io.Writer) { fmt.Fprintln(w, text) }, nil
}
