package exchange

import (
	"strconv"

	"github.com/switchboard-go/switchboard/actor"
)

// Kind is the "kind" a request-response exchange's process shows in
// actor.InspectProcess (a pub-sub exchange shows "pubsub", a task queue
// "tasks").
const Kind = "request-response"

// HandleInspect shows the exchange's kind, strategy, leader and member
// count to actor.InspectProcess.
func (s *server) HandleInspect(*actor.Process) map[string]string {
	m := map[string]string{"kind": Kind, "exchange": s.spec.Name, "strategy": s.spec.Strategy.String(),
		"members": strconv.Itoa(len(s.members.list))}
	if s.members.leader != nil {
		m["leader"] = actor.FormatPID(s.members.leader)
	}
	return m
}
