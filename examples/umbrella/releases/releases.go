// Package releases holds the umbrella's release files, one per node role
// (core, worker, access), embedded in the binary so that it runs from any
// directory. Each is a TOML release file of package release: which
// applications the node runs, distributed ones with their node lists,
// the node's static exchange points, and the applications' settings;
// SWITCHBOARD_NODE_* and SWITCHBOARD_<APP>_<KEY> environment variables
// override them.
package releases

import (
	"embed"
	"fmt"
)

//go:embed *.toml
var files embed.FS

// Roles are the node roles, each with its release file <role>.toml.
var Roles = []string{"core", "worker", "access"}

// Read returns the release file of role: the name its errors give
// (releases/<role>.toml) and its contents.
func Read(role string) (name string, data []byte, err error) {
	data, err = files.ReadFile(role + ".toml")
	if err != nil {
		return "", nil, fmt.Errorf("umbrella: no release for the role %q (want one of %v)", role, Roles)
	}
	return "releases/" + role + ".toml", data, nil
}
