// Command soak is `make soak`: a real Consul agent and five nodes of the
// umbrella (examples/umbrella), each an OS process of this binary ("soak
// node": the umbrella's node command, running the umbrella's release of
// its role plus the soak's probe applications), joined through Consul; a
// steady mixed load from the driver (itself a node, never faulted,
// holding no exchange) on the umbrella's services and the probe's; every
// node dialing the others through link proxies (internal/linkproxy) that
// the cut faults cut; faults from fault.Schedule; every operation,
// effect, delivery, fault, instance, membership view and resource sample
// in history files; at the end history.Check over the merged files, the
// summary table, and exit status 1 on any violation. See docs/soak.md.
//
//	SOAK_DURATION=1m SOAK_SEED=7 go run ./internal/soak/cmd/soak
//	go run ./internal/soak/cmd/soak check DIR   # check a kept run's files again
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "node" {
		os.Exit(nodeMain(os.Args[2:]))
	}
	if len(os.Args) > 2 && os.Args[1] == "check" {
		os.Exit(checkMain(os.Args[2]))
	}
	os.Exit(driverMain())
}

func fatalf(format string, args ...any) int {
	fmt.Fprintf(os.Stderr, "soak: "+format+"\n", args...)
	return 2
}
