package release_test

import (
	"context"
	"log/slog"
	"time"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/release"
	"github.com/switchboard-go/switchboard/supervisor"
)

// The keys of the test application "web".
var (
	port    = release.NewKey("port", 8080, "the port it listens on")
	host    = release.NewKey("host", "localhost", "the host it listens on")
	debug   = release.NewKey("debug", false, "log every request")
	timeout = release.NewKey("timeout", 5*time.Second, "a request's deadline")
	ratio   = release.NewKey("ratio", 0.5, "the share of sampled requests")
	peers   = release.NewKey("peers", []string{"a", "b"}, "the peers it greets")
)

// emptyApp starts an empty supervisor.
func emptyApp(keys ...release.AnyKey) release.App {
	return release.App{Keys: keys, Start: func(ctx context.Context, n *actor.Node, _ release.Env, _ supervisor.StartType) (*actor.PID, error) {
		return supervisor.Start(ctx, n, supervisor.Spec{Strategy: supervisor.OneForOne})
	}}
}

func testApps() release.Apps {
	db := emptyApp()
	web := emptyApp(port, host, debug, timeout, ratio, peers)
	web.Deps = []string{"db"}
	return release.Apps{"web": web, "db": db}
}

func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
}

// quiet is the logger of nodes whose logs the test does not read.
var quiet = slog.New(slog.DiscardHandler)
