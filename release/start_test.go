package release_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/release"
	"github.com/switchboard-go/switchboard/supervisor"
)

var errRefused = errors.New("refused to start")

// A failed Start undoes what it started: the node stops (goleak checks
// that its goroutines ended) and the error says which application.
func TestStartFailureUndoes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var node *actor.Node
	apps := release.Apps{
		"db": emptyApp(),
		"web": {Deps: []string{"db"}, Start: func(_ context.Context, n *actor.Node, _ release.Env, _ supervisor.StartType) (*actor.PID, error) {
			node = n
			return nil, errRefused
		}},
	}
	r, err := release.Parse("r.toml", []byte(goodHead+"[apps.db]\n[apps.web]\n[exchanges.time]\nkind = \"request\"\n"), apps, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Start(ctx, release.Options{Logger: quiet})
	if !errors.Is(err, errRefused) || !strings.Contains(err.Error(), "application web") {
		t.Fatalf("err = %v", err)
	}
	select {
	case <-node.Done():
	default:
		t.Fatal("the node still runs")
	}
}

// A permanent application whose tree exits stops the node: Done closes,
// Err names the application, and Stop returns.
func TestPermanentExitStopsNode(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r, err := release.Parse("r.toml", []byte(goodHead+"[apps.db]\n"), release.Apps{"db": emptyApp()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	run, err := r.Start(ctx, release.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	sup := run.Applications().Running()[0].Supervisor
	if err := run.Node().StopProcess(ctx, sup, errors.New("boom")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-run.Done():
	case <-ctx.Done():
		t.Fatal("the node did not stop")
	}
	if err := run.Err(); !errors.Is(err, supervisor.ErrApplicationExited) || !strings.Contains(err.Error(), `"db"`) {
		t.Errorf("Err = %v", err)
	}
	if err := run.Stop(ctx); err != nil {
		t.Errorf("Stop = %v", err)
	}
}
