package node

import (
	"fmt"
	"slices"

	"github.com/switchboard-go/switchboard/examples/umbrella/apps/access"
	"github.com/switchboard-go/switchboard/examples/umbrella/apps/documents"
	"github.com/switchboard-go/switchboard/examples/umbrella/apps/subscriptions"
	"github.com/switchboard-go/switchboard/examples/umbrella/apps/timesvc"
	"github.com/switchboard-go/switchboard/examples/umbrella/apps/users"
	"github.com/switchboard-go/switchboard/examples/umbrella/internal/stats"
	"github.com/switchboard-go/switchboard/supervisor"
)

// Roles are the node roles of the umbrella, each with its release.
var Roles = []string{"core", "worker", "access"}

// Release is what a node of a role runs: its applications in start order.
type Release struct {
	Role string
	Apps []App
}

// App is one application of a release: plain when Nodes is empty,
// distributed on the priority list Nodes otherwise.
type App struct {
	Application supervisor.Application
	Nodes       [][]string
}

// Distributed reports whether the application runs on a priority list.
func (a App) Distributed() bool { return len(a.Nodes) > 0 }

// Configs are the applications' settings, the same for every node of a
// release.
type Configs struct {
	Users         users.Config
	Documents     documents.Config
	Subscriptions subscriptions.Config
	Time          timesvc.Config
	Access        access.Config
}

// ReleaseFor returns the release of role. core names the two core nodes:
// users_core and time_hub prefer the first and stand by on the second,
// documents_queue and subscriptions_hub the other way round, so each core
// node is the other's standby and a kill of either moves half the hubs.
func ReleaseFor(role string, core [2]string, cfg Configs, st *stats.Set) (Release, error) {
	a, b := [][]string{{core[0]}, {core[1]}}, [][]string{{core[1]}, {core[0]}}
	switch role {
	case "core":
		return Release{Role: role, Apps: []App{
			{Application: users.Core(cfg.Users), Nodes: a},
			{Application: timesvc.Hub(cfg.Time), Nodes: a},
			{Application: documents.Queue(cfg.Documents), Nodes: b},
			{Application: subscriptions.Hub(cfg.Subscriptions), Nodes: b},
			{Application: users.Replica(cfg.Users, st)},
		}}, nil
	case "worker":
		return Release{Role: role, Apps: []App{
			{Application: users.Replica(cfg.Users, st)},
			{Application: documents.Checker(cfg.Documents, st)},
			{Application: subscriptions.Controller(cfg.Subscriptions, st)},
			{Application: timesvc.Service(cfg.Time, st)},
		}}, nil
	case "access":
		return Release{Role: role, Apps: []App{{Application: access.App(cfg.Access, st)}}}, nil
	}
	return Release{}, fmt.Errorf("umbrella: unknown role %q (want one of %v)", role, Roles)
}

// IsRole reports whether role is one of Roles.
func IsRole(role string) bool { return slices.Contains(Roles, role) }
