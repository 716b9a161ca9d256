package node

import (
	"github.com/switchboard-go/switchboard/examples/umbrella/apps/access"
	"github.com/switchboard-go/switchboard/examples/umbrella/apps/documents"
	"github.com/switchboard-go/switchboard/examples/umbrella/apps/subscriptions"
	"github.com/switchboard-go/switchboard/examples/umbrella/apps/timesvc"
	"github.com/switchboard-go/switchboard/examples/umbrella/apps/users"
	"github.com/switchboard-go/switchboard/examples/umbrella/internal/stats"
	"github.com/switchboard-go/switchboard/release"
)

// Apps are the umbrella's applications by the names release files give
// them; those that count do so in st.
func Apps(st *stats.Set) release.Apps {
	return release.Apps{
		users.CoreName:               users.Core(),
		users.ReplicaName:            users.Replica(st),
		documents.QueueName:          documents.Queue(),
		documents.CheckerName:        documents.Checker(st),
		subscriptions.HubName:        subscriptions.Hub(),
		subscriptions.ControllerName: subscriptions.Controller(st),
		timesvc.HubName:              timesvc.Hub(),
		timesvc.ServiceName:          timesvc.Service(st),
		access.Name:                  access.App(st),
	}
}
