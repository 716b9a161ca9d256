package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/inspect"
)

// Exit codes.
const (
	exitOK          = 0
	exitError       = 1
	exitUsage       = 2
	exitUnreachable = 3
	exitCookie      = 4
	exitUnknown     = 5
)

// errUnknown: a name the cluster does not know.
var errUnknown = errors.New("unknown name")

const usage = `usage: switchboard COMMAND [flags] [NAME]

commands:
  nodes                    the cluster's nodes
  apps                     applications and distributed applications, per node
  tree [APP]               supervision trees of the node's applications
  exchanges                exchanges, per node, with their kind
  controllers EXCHANGE     a request-response exchange's controllers
  leaders                  every request-response exchange's strategy and leader
  subscriptions [EXCHANGE] pub-sub subscriptions and proxies
  queues                   task queues: depth, in flight, workers
  call EXCHANGE MSG        a request to a request-response exchange; prints the reply
  publish EXCHANGE KEY MSG a message to a pub-sub exchange
  submit EXCHANGE MSG      a task to a task queue
  node --release FILE      runs a node from a release file (see switchboard node -h)
  new -module M DIR        scaffolds an umbrella project in DIR

  dashboard                serve the live web dashboard (--listen HOST:PORT) until interrupted

MSG is JSON of --type (default google.protobuf.StringValue: '"hi"').

flags:
`

// command is one subcommand: it writes a table to w, or returns the value
// --json encodes.
type command func(s *session, args []string) (any, func(w io.Writer), error)

var commands = map[string]command{
	"nodes": cmdNodes, "apps": cmdApps, "tree": cmdTree, "exchanges": cmdExchanges,
	"controllers": cmdControllers, "leaders": cmdLeaders, "subscriptions": cmdSubscriptions, "queues": cmdQueues,
	"call": cmdCall, "publish": cmdPublish, "submit": cmdSubmit,
}

// session is the command's own node, connected to the node asked.
type session struct {
	ctx     context.Context
	n       *actor.Node
	target  string
	msgType string // --type, of call, publish and submit
}

func run(args []string, stdout, stderr io.Writer, env func(string) (string, bool)) int {
	if len(args) > 0 && standalone[args[0]] != nil {
		return standalone[args[0]](args[1:], stdout, stderr, env)
	}
	if len(args) == 0 || commands[args[0]] == nil {
		fmt.Fprint(stderr, usage)
		if len(args) > 0 && args[0] != "-h" && args[0] != "--help" && args[0] != "help" {
			fmt.Fprintf(stderr, "\nswitchboard: unknown command %q\n", args[0])
		}
		return exitUsage
	}
	cmd := commands[args[0]]
	fs := flag.NewFlagSet("switchboard "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	tg := targetFlags(fs, env)
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	timeout := fs.Duration("timeout", 10*time.Second, "bound of the whole command")
	msgType := fs.String("type", defaultType, "protobuf type of MSG (call, publish, submit)")
	// Flags may come before and after the names: parse up to each name,
	// keep it, and go on.
	var names []string
	for rest := args[1:]; ; {
		if err := fs.Parse(rest); err != nil {
			return exitUsage
		}
		if fs.NArg() == 0 {
			break
		}
		names, rest = append(names, fs.Arg(0)), fs.Args()[1:]
	}
	if !tg.resolve(stderr) {
		return exitUsage
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	n, err := tg.start("switchboard")
	if err != nil {
		fmt.Fprintf(stderr, "switchboard: %v\n", err)
		return exitError
	}
	defer func() { _ = n.Stop(context.Background()) }()
	s := &session{ctx: ctx, n: n, target: *tg.node, msgType: *msgType}
	v, table, err := cmd(s, names)
	if err != nil {
		return s.fail(stderr, err)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(v); err != nil {
			fmt.Fprintf(stderr, "switchboard: %v\n", err)
			return exitError
		}
		return exitOK
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	table(tw)
	_ = tw.Flush()
	return exitOK
}

// fail says what went wrong and returns its exit code.
func (s *session) fail(stderr io.Writer, err error) int {
	switch {
	case errors.Is(err, errBadMessage):
		fmt.Fprintf(stderr, "switchboard: %v\n", err)
		return exitUsage
	case errors.Is(err, errUnknown) || errors.Is(err, exchange.ErrNoController) || errors.Is(err, exchange.ErrExchangeNotFound) || errors.Is(err, exchange.ErrWrongKind):
		fmt.Fprintf(stderr, "switchboard: %v\n", err)
		return exitUnknown
	case errors.Is(err, actor.ErrNodeDown) && s.n.Stats().Refused > 0:
		fmt.Fprintf(stderr, "switchboard: %s refused the connection: wrong cookie? (%v)\n", s.target, err)
		return exitCookie
	case errors.Is(err, actor.ErrNodeDown) || errors.Is(err, actor.ErrTimeout):
		fmt.Fprintf(stderr, "switchboard: cannot reach %s: %v\n", s.target, err)
		return exitUnreachable
	case errors.Is(err, inspect.ErrNoInspector):
		fmt.Fprintf(stderr, "switchboard: %v (start one with inspect.Start)\n", err)
		return exitError
	}
	fmt.Fprintf(stderr, "switchboard: %v\n", err)
	return exitError
}

// nodes describes every node of the cluster, as the target sees it.
func (s *session) nodes() ([]inspect.NodeInfo, error) {
	first, err := inspect.Node(s.ctx, s.n, s.target)
	if err != nil {
		return nil, err
	}
	if len(first.Members) == 0 {
		return []inspect.NodeInfo{first}, nil
	}
	var out []inspect.NodeInfo
	for _, m := range first.Members {
		if m.Address == first.Address {
			out = append(out, first)
			continue
		}
		info, err := inspect.Node(s.ctx, s.n, m.Address)
		if err != nil {
			return out, fmt.Errorf("node %s: %w", m.Name, err)
		}
		out = append(out, info)
	}
	return out, nil
}

// exchangesOf lists the exchanges of the cluster of a kind ("" for all).
func (s *session) exchangesOf(kind string) ([]located, error) {
	infos, err := s.nodes()
	if err != nil {
		return nil, err
	}
	var out []located
	for _, n := range infos {
		for _, e := range n.Exchanges {
			if kind == "" || e.Kind == kind {
				out = append(out, located{Node: n.Name, Address: n.Address, Name: e.Name, Kind: e.Kind})
			}
		}
	}
	return out, nil
}

// located is an exchange and where it runs.
type located struct {
	Node, Address, Name, Kind string
}

func (l located) at() exchange.Address { return exchange.At(l.Address, l.Name) }

func pid(p *actor.PID) string {
	if p == nil {
		return "-"
	}
	return actor.FormatPID(p)
}
