package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/switchboard-go/switchboard/examples/umbrella/node"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/internal/linkproxy"
)

// nodeMain is "soak node -release FILE": one node of the umbrella, run by
// the umbrella's own node command (node.Run: its release file, its
// applications, its status process, READY once they run, a stop when
// stdin closes) with the probe's applications offered beside the
// umbrella's (the soak's release files name them) and its connections
// through the link proxies. The environment places it in the soak
// (SOAK_NODE_INDEX, SOAK_NAMES and SOAK_NODES: every node's name and
// address, SOAK_DIR, SOAK_PATTERN, SOAK_EVENTS: the pub-sub exchange its
// subscriber follows, "profiles" or a local proxy of it, SOAK_ROUTES: the
// proxies it dials the others through); SWITCHBOARD_NODE_* and
// SWITCHBOARD_<APP>_<KEY> configure the umbrella's node as make demo's.
func nodeMain(args []string) int {
	idx, err := strconv.Atoi(os.Getenv("SOAK_NODE_INDEX"))
	names, addrs := strings.Split(os.Getenv("SOAK_NAMES"), ","), strings.Split(os.Getenv("SOAK_NODES"), ",")
	if err != nil || idx < 0 || idx >= len(names) || len(names) != len(addrs) || len(names) != nNodes {
		return fatalf("SOAK_NODE_INDEX %q, SOAK_NAMES %q, SOAK_NODES %q: %d names and addresses and an index", os.Getenv("SOAK_NODE_INDEX"), os.Getenv("SOAK_NAMES"), os.Getenv("SOAK_NODES"), nNodes)
	}
	routes, err := linkproxy.ParseRoutes(os.Getenv("SOAK_ROUTES"))
	if err != nil {
		return fatalf("SOAK_ROUTES: %v", err)
	}
	dir, name := os.Getenv("SOAK_DIR"), names[idx]
	h, err := openHist(filepath.Join(dir, short(name)+".jsonl"))
	if err != nil {
		return fatalf("%v", err)
	}
	defer h.close()
	slow := slowness()
	defer slow.stop()
	events := exchange.Named(os.Getenv("SOAK_EVENTS"))
	if strings.HasSuffix(os.Getenv("SOAK_EVENTS"), ".proxy") {
		events = exchange.At(addrs[idx], os.Getenv("SOAK_EVENTS")) // this node's own proxy
	}
	pr := &probe{h: h, name: name, idx: idx, dir: dir, addrs: addrs, pattern: os.Getenv("SOAK_PATTERN"), events: events, slow: slow}
	return node.Run(args, node.Options{Apps: pr.apps(), Dial: linkproxy.Dialer(routes)})
}

// short is a node's name before the '@'.
func short(name string) string { return strings.SplitN(name, "@", 2)[0] }
