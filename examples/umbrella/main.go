// Command umbrella is Switchboard's demo and the model of a project
// built on it: an umbrella of applications (apps/<name>/, one Go package
// each: its supervision tree, its protobuf API, its exchanges and its
// configuration) deployed per node role.
//
// With no arguments it runs the demo: the release on one machine, every
// node an OS process of its own (this binary again, as "umbrella node"),
// a scripted scenario of about a minute with a kill -9 of the node
// running the users core midway, a live summary, and a report; it exits 0
// only if every service worked.
//
//	go run ./examples/umbrella                  # the demo (make demo)
//	go run ./examples/umbrella -forever         # until Ctrl-C
//	go run ./examples/umbrella -consul 127.0.0.1:8500
//	SWITCHBOARD_NODE_NAME=work-1@localhost SWITCHBOARD_NODE_SEEDS=127.0.0.1:7000 \
//	  umbrella node -release worker     # one node, from releases/worker.toml
//	go run ./examples/umbrella new -module example.com/shop ../shop   # a new project in this shape
//
// See docs/umbrella.md.
package main

import (
	"os"

	"github.com/switchboard-go/switchboard/examples/umbrella/internal/demo"
	"github.com/switchboard-go/switchboard/examples/umbrella/node"
	"github.com/switchboard-go/switchboard/internal/scaffold"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "node" {
		os.Exit(node.Main(os.Args[2:]))
	}
	if len(os.Args) > 1 && os.Args[1] == "new" {
		os.Exit(scaffold.Main(os.Args[2:]))
	}
	os.Exit(demo.Main(os.Args[1:]))
}
