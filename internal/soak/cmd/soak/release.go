package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/switchboard-go/switchboard/examples/umbrella/releases"
)

// The five nodes of the soak, by index: the umbrella's roles, named as
// make demo names them. The order places the nodes in the fault
// schedule (fault.Schedule draws indices): seed 42 kills index 3, core-b,
// whose hubs (documents_queue, subscriptions_hub) fail over to core-a and
// back, and which holds the probe's backlog queue.
var (
	nodeNames = []string{"work-1@localhost", "access-1@localhost", "work-2@localhost", "core-b@localhost", "core-a@localhost"}
	nodeRoles = []string{"worker", "access", "worker", "core", "core"}
	// Each node's subscriber: its pattern, and the pub-sub exchange it
	// follows (the access node's own proxy of profiles, the others
	// profiles wherever users_core runs).
	nodePatterns = []string{"profile.*", "profile.#", "#", "profile.u1", "*.*"}
	nodeEvents   = []string{"profiles", "profiles.proxy", "profiles", "profiles", "profiles"}
)

// singletonNodes is soak_singleton's priority list: access-1 first (a
// restarted access-1 takes it over), then the others alike.
func singletonNodes(names []string) string {
	q := func(ns []string) string { return `"` + strings.Join(ns, `", "`) + `"` }
	return fmt.Sprintf("[[%s], [%s]]", q(names[1:2]), q(append([]string{names[0]}, names[2:]...)))
}

// writeReleases writes, for each role, the umbrella's release file of
// that role with the probe's applications added, into dir/releases, and
// returns the file of each role.
func writeReleases(dir string, names []string) (map[string]string, error) {
	out := map[string]string{}
	if err := os.MkdirAll(filepath.Join(dir, "releases"), 0o700); err != nil {
		return nil, err
	}
	for _, role := range releases.Roles {
		_, data, err := releases.Read(role)
		if err != nil {
			return nil, err
		}
		probe := fmt.Sprintf("\n# Added by the soak (internal/soak/cmd/soak): its probe applications.\n[apps.%s]\n\n[apps.%s]\nnodes = %s\n",
			probeApp, singletonApp, singletonNodes(names))
		path := filepath.Join(dir, "releases", role+".toml")
		if err := os.WriteFile(path, append(data, probe...), 0o600); err != nil {
			return nil, err
		}
		out[role] = path
	}
	return out, nil
}
