package main

import (
	"fmt"
	"io"

	"github.com/switchboard-go/switchboard/exchange/pubsub"
	"github.com/switchboard-go/switchboard/patterns"
)

// published is what publish and submit print.
type published struct {
	Exchange, Node string
	Key            string `json:",omitempty"`
	Type           string
}

// cmdPublish is "publish EXCHANGE KEY MSG": one message to the pub-sub
// exchange's subscribers whose patterns match KEY.
func cmdPublish(s *session, args []string) (any, func(io.Writer), error) {
	if len(args) != 3 {
		return nil, nil, fmt.Errorf("%w: publish takes EXCHANGE KEY MSG", errBadMessage)
	}
	msg, err := message(s.msgType, args[2])
	if err != nil {
		return nil, nil, err
	}
	e, err := s.find(pubsub.Kind, args[0])
	if err != nil {
		return nil, nil, err
	}
	if err := patterns.Publish(s.ctx, s.n, e.at(), args[1], msg); err != nil {
		return nil, nil, fmt.Errorf("publish to %s on %s: %w", e.Name, e.Node, err)
	}
	p := published{Exchange: e.Name, Node: e.Node, Key: args[1], Type: s.msgType}
	return p, func(w io.Writer) {
		fmt.Fprintf(w, "published %s to %s on %s, key %s\n", p.Type, p.Exchange, p.Node, p.Key)
	}, nil
}
