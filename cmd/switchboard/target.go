package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/switchboard-go/switchboard/actor"
)

// target is the flags every command has to reach the cluster: --node,
// --cookie and --cookie-file, each by default from its environment
// variable.
type target struct{ node, cookie, cookieFile *string }

func targetFlags(fs *flag.FlagSet, env func(string) (string, bool)) target {
	getenv := func(k string) string { v, _ := env(k); return v }
	return target{
		node:       fs.String("node", getenv("SWITCHBOARD_NODE"), "transport address (host:port) of any node of the cluster"),
		cookie:     fs.String("cookie", getenv("SWITCHBOARD_COOKIE"), "the cluster's cookie"),
		cookieFile: fs.String("cookie-file", getenv("SWITCHBOARD_COOKIE_FILE"), "a file holding the cluster's cookie"),
	}
}

// resolve checks the flags once parsed and reads the cookie file: false
// (and why, on stderr) when the command cannot go on, a usage error.
func (t target) resolve(stderr io.Writer) bool {
	if *t.node == "" {
		fmt.Fprintln(stderr, "switchboard: --node (or SWITCHBOARD_NODE) is required")
		return false
	}
	if *t.cookieFile != "" && *t.cookie == "" {
		b, err := os.ReadFile(*t.cookieFile)
		if err != nil {
			fmt.Fprintf(stderr, "switchboard: %v\n", err)
			return false
		}
		*t.cookie = strings.TrimSpace(string(b))
	}
	return true
}

// start starts the command's own node, name-PID@localhost, with the
// cookie; it joins no cluster.
func (t target) start(name string) (*actor.Node, error) {
	return actor.Start(actor.Config{Name: fmt.Sprintf("%s-%d@localhost", name, os.Getpid()), Listen: "127.0.0.1:0",
		Cookie: *t.cookie, Logger: slog.New(slog.DiscardHandler)})
}
