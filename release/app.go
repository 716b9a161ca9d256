package release

import (
	"context"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/supervisor"
)

// App is an application a program offers to its release files: the keys
// it reads from its environment, the applications it needs, and its start
// and stop, as supervisor.Application's with the environment added.
type App struct {
	// Keys are the configuration keys the application reads (Key.Get);
	// a release file may set these and no others.
	Keys []AnyKey
	// Deps are applications started before this one and stopped after
	// it; each must be in the release. A plain application cannot depend
	// on a distributed one (it may run on another node).
	Deps []string
	// Start starts the application's top supervisor on n (not linked) and
	// returns its PID; env holds its configuration, t why it starts
	// (always Normal for a plain application). Required.
	Start func(ctx context.Context, n *actor.Node, env Env, t supervisor.StartType) (*actor.PID, error)
	// Stop runs after the application's supervision tree has stopped.
	// Optional.
	Stop func(ctx context.Context)
}

// Apps are the applications of a program, by name: the names a release
// file may list. The program builds it (no registry is global):
//
//	apps := release.Apps{"users": users.App, "time": timesvc.App}
type Apps map[string]App
