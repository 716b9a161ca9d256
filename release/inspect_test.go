package release_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/inspect"
	"github.com/switchboard-go/switchboard/release"
)

// A node started from a release answers inspections: its applications
// and exchanges, as any node would see them.
func TestStartedNodeAnswersInspections(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r, err := release.Parse("r.toml", []byte(goodHead+"[apps.db]\n[exchanges.time]\nkind = \"request\"\n"), release.Apps{"db": emptyApp()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	run, err := r.Start(ctx, release.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = run.Stop(ctx) }()
	info, err := inspect.Node(ctx, run.Node(), run.Node().Address())
	if err != nil {
		t.Fatal(err)
	}
	var apps []string
	for _, a := range info.Applications {
		apps = append(apps, a.Name)
	}
	if !slices.Contains(apps, "db") || len(info.Exchanges) != 1 || info.Exchanges[0].Name != "time" || info.Exchanges[0].Kind != "request-response" || !info.Joined {
		t.Fatalf("info %+v", info)
	}
}
