package pubsub

import (
	"strconv"

	"github.com/switchboard-go/switchboard/actor"
)

// Kind is the "kind" a pub-sub exchange's process shows in
// actor.InspectProcess.
const Kind = "pubsub"

// HandleInspect shows the exchange's kind, subscriptions and upstream to
// actor.InspectProcess.
func (s *pubsub) HandleInspect(*actor.Process) map[string]string {
	m := map[string]string{"kind": Kind, "exchange": s.spec.Name,
		"subscriptions": strconv.Itoa(s.trie.Len()), "subscribers": strconv.Itoa(len(s.subs))}
	if s.proxy() {
		m["upstream"] = s.spec.Upstream.Name
	}
	return m
}
