// Command switchboard inspects a running Switchboard cluster through any of
// its nodes, sends it test messages, runs nodes from release files and
// scaffolds new projects:
//
//	switchboard nodes|apps|tree|exchanges|controllers|leaders|subscriptions|queues [flags] [name]
//	switchboard dashboard [--listen HOST:PORT] [flags]
//	switchboard call EXCHANGE MSG | publish EXCHANGE KEY MSG | submit EXCHANGE MSG [--type NAME] [flags]
//	switchboard node --release FILE   (no user applications: see docs/operations.md)
//	switchboard new -module M DIR
//
// Flags: --node ADDR (a node's transport address; default
// $SWITCHBOARD_NODE), --cookie (default $SWITCHBOARD_COOKIE) or
// --cookie-file (default $SWITCHBOARD_COOKIE_FILE), --json, --timeout.
// The nodes must run an inspector (inspect.Start). Exit codes: 0 done,
// 1 another error, 2 bad usage, 3 the node is unreachable, 4 the node
// refused the cookie, 5 an unknown name.
package main

import (
	"os"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, os.LookupEnv)) }
