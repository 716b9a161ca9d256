package node

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/examples/umbrella/apps/documents"
	"github.com/switchboard-go/switchboard/examples/umbrella/releases"
	"github.com/switchboard-go/switchboard/release"
	"github.com/switchboard-go/switchboard/supervisor"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// Every role's release loads, with the applications the docs say, and
// the environment names the node and overrides an application's key.
func TestReleasesLoad(t *testing.T) {
	want := map[string][]string{
		"core":   {"users", "users_core", "time_hub", "documents_queue", "subscriptions_hub"},
		"worker": {"users", "documents", "subscriptions", "time"},
		"access": {"access"},
	}
	for _, role := range releases.Roles {
		name := "x-1@localhost"
		if role == "core" {
			name = "core-b@localhost" // a node of the distributed applications' lists
		}
		r, gotRole, err := Load(Options{Release: role, LookupEnv: env(map[string]string{
			"SWITCHBOARD_NODE_NAME":                      name,
			"SWITCHBOARD_DOCUMENTS_QUEUE_MAX_DELIVERIES": "2",
		})})
		if err != nil {
			t.Fatalf("%s: %v", role, err)
		}
		var apps []string
		for _, a := range r.Apps {
			apps = append(apps, a.Name)
			if a.Name == documents.QueueName {
				if got := documents.ConfigFrom(a.Env).MaxDeliveries; got != 2 {
					t.Errorf("max_deliveries %d, want 2 from the environment", got)
				}
			}
		}
		if gotRole != role || r.Node.Name != name || !slices.Equal(apps, want[role]) {
			t.Errorf("%s: role %q, node %q, apps %v; want apps %v", role, gotRole, r.Node.Name, apps, want[role])
		}
	}
	if _, _, err := Load(Options{Release: "core", LookupEnv: env(map[string]string{"SWITCHBOARD_DOCUMENTS_QUEUE_MAX_DELIVERIES": "many"})}); !errors.Is(err, release.ErrWrongType) ||
		!strings.Contains(err.Error(), "SWITCHBOARD_DOCUMENTS_QUEUE_MAX_DELIVERIES") {
		t.Errorf("a bad override: %v, want ErrWrongType naming the variable", err)
	}
	if _, _, err := Load(Options{Release: "nosuch"}); err == nil || !strings.Contains(err.Error(), "no release for the role") {
		t.Errorf("an unknown role: %v", err)
	}
	if _, _, err := Load(Options{Release: "/nonexistent/x.toml"}); !errors.Is(err, release.ErrMissingFile) {
		t.Errorf("a missing file: %v, want ErrMissingFile", err)
	}
}

// A release file may name an application the program offers beside the
// umbrella's (Options.Apps); one that reuses an umbrella name is refused.
func TestReleaseWithMoreApps(t *testing.T) {
	_, data, err := releases.Read("worker")
	if err != nil {
		t.Fatal(err)
	}
	path := t.TempDir() + "/worker.toml"
	if err := os.WriteFile(path, append(data, "\n[apps.probe]\n"...), 0o600); err != nil {
		t.Fatal(err)
	}
	probe := release.App{Start: func(context.Context, *actor.Node, release.Env, supervisor.StartType) (*actor.PID, error) {
		return nil, nil
	}}
	r, _, err := Load(Options{Release: path, Apps: release.Apps{"probe": probe}, LookupEnv: env(nil)})
	if err != nil {
		t.Fatal(err)
	}
	if last := r.Apps[len(r.Apps)-1].Name; last != "probe" {
		t.Errorf("apps %v, want probe last", r.Apps)
	}
	if _, _, err := Load(Options{Release: path, LookupEnv: env(nil)}); !errors.Is(err, release.ErrUnknownApp) {
		t.Errorf("without Options.Apps: %v, want ErrUnknownApp", err)
	}
	if _, _, err := Load(Options{Release: path, Apps: release.Apps{"probe": probe, documents.CheckerName: probe}}); err == nil || !strings.Contains(err.Error(), "the umbrella's already") {
		t.Errorf("an umbrella name offered again: %v", err)
	}
}
