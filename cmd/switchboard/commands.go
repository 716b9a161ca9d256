package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/exchange/pubsub"
	"github.com/switchboard-go/switchboard/exchange/tasks"
	"github.com/switchboard-go/switchboard/inspect"
)

func noArgs(args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("unexpected arguments %q", args)
	}
	return nil
}

func cmdNodes(s *session, args []string) (any, func(io.Writer), error) {
	if err := noArgs(args); err != nil {
		return nil, nil, err
	}
	infos, err := s.nodes()
	if err != nil {
		return nil, nil, err
	}
	return infos, func(w io.Writer) {
		fmt.Fprintln(w, "NODE\tADDRESS\tPROCESSES\tAPPS\tEXCHANGES\tMEMBERS")
		for _, n := range infos {
			fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%d\t%d\n", n.Name, n.Address, n.Processes, len(n.Applications), len(n.Exchanges), len(n.Members))
		}
	}, nil
}

type appRow struct {
	Node, App, Kind, Restart, Supervisor, RunningOn, Standbys string
}

func cmdApps(s *session, args []string) (any, func(io.Writer), error) {
	if err := noArgs(args); err != nil {
		return nil, nil, err
	}
	infos, err := s.nodes()
	if err != nil {
		return nil, nil, err
	}
	var rows []appRow
	for _, n := range infos {
		for _, a := range n.Applications {
			rows = append(rows, appRow{Node: n.Name, App: a.Name, Kind: "local", Restart: a.Restart.String(), Supervisor: pid(a.Supervisor)})
		}
		for _, d := range n.Distributed {
			rows = append(rows, appRow{Node: n.Name, App: d.Name, Kind: "distributed " + d.Phase, RunningOn: d.RunningOn, Standbys: strings.Join(d.Standbys, ",")})
		}
	}
	return rows, func(w io.Writer) {
		fmt.Fprintln(w, "NODE\tAPPLICATION\tKIND\tRESTART\tSUPERVISOR\tRUNNING ON\tSTANDBYS")
		for _, r := range rows {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Node, r.App, r.Kind, dash(r.Restart), dash(r.Supervisor), dash(r.RunningOn), dash(r.Standbys))
		}
	}, nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func cmdTree(s *session, args []string) (any, func(io.Writer), error) {
	if len(args) > 1 {
		return nil, nil, fmt.Errorf("unexpected arguments %q", args[1:])
	}
	trees, err := inspect.Trees(s.ctx, s.n, s.target)
	if err != nil {
		return nil, nil, err
	}
	if len(args) == 1 {
		var one []inspect.AppTree
		for _, t := range trees {
			if t.App.Name == args[0] {
				one = append(one, t)
			}
		}
		if len(one) == 0 {
			return nil, nil, fmt.Errorf("%w: application %q on %s", errUnknown, args[0], s.target)
		}
		trees = one
	}
	return trees, func(w io.Writer) {
		for _, t := range trees {
			fmt.Fprintf(w, "%s\t%s\t%s\trestarts %d\n", t.App.Name, t.Tree.Strategy, pid(t.Tree.PID), t.Tree.SupRestarts)
			printTree(w, &t.Tree, "  ")
		}
	}, nil
}

func printTree(w io.Writer, t *inspect.Tree, indent string) {
	for i := range t.Children {
		c := &t.Children[i]
		kind := "worker"
		if c.Type != 0 {
			kind = "supervisor " + c.Strategy.String()
		}
		fmt.Fprintf(w, "%s%s\t%s\t%s\trestarts %d\n", indent, c.ID, kind, pid(c.PID), c.Restarts)
		printTree(w, c, indent+"  ")
	}
}

func cmdExchanges(s *session, args []string) (any, func(io.Writer), error) {
	if err := noArgs(args); err != nil {
		return nil, nil, err
	}
	exs, err := s.exchangesOf("")
	if err != nil {
		return nil, nil, err
	}
	return exs, func(w io.Writer) {
		fmt.Fprintln(w, "NODE\tEXCHANGE\tKIND")
		for _, e := range exs {
			fmt.Fprintf(w, "%s\t%s\t%s\n", e.Node, e.Name, dash(e.Kind))
		}
	}, nil
}

// find is the request-response exchange name, wherever it runs.
func (s *session) find(kind, name string) (located, error) {
	exs, err := s.exchangesOf("")
	if err != nil {
		return located{}, err
	}
	for _, e := range exs {
		if e.Name == name {
			if e.Kind != kind {
				return located{}, fmt.Errorf("%w: %q is a %s exchange", exchange.ErrWrongKind, name, e.Kind)
			}
			return e, nil
		}
	}
	return located{}, fmt.Errorf("%w: no exchange %q in the cluster", errUnknown, name)
}

type exchangeView struct {
	Node string
	exchange.Info
	StrategyName string `json:"Strategy"`
}

func cmdControllers(s *session, args []string) (any, func(io.Writer), error) {
	if len(args) != 1 {
		return nil, nil, fmt.Errorf("controllers takes one exchange name")
	}
	e, err := s.find(exchange.Kind, args[0])
	if err != nil {
		return nil, nil, err
	}
	info, err := exchange.Inspect(s.ctx, s.n, e.at())
	if err != nil {
		return nil, nil, err
	}
	v := exchangeView{Node: e.Node, Info: info, StrategyName: info.Strategy.String()}
	return v, func(w io.Writer) {
		fmt.Fprintf(w, "exchange %s on %s, %s, leader %s, routed %d, rejected %d, no controller %d\n",
			info.Name, e.Node, info.Strategy, pid(info.Leader), info.Stats.Routed, info.Stats.Rejected, info.Stats.NoController)
		fmt.Fprintln(w, "CONTROLLER\tSERVICE TAG\tCONNECTION TAG\tLEADER")
		for _, m := range info.Members {
			fmt.Fprintf(w, "%s\t%s\t%s\t%v\n", pid(m.PID), dash(m.ServiceTag), dash(m.ConnTag), info.Leader != nil && info.Leader.Equal(m.PID))
		}
	}, nil
}

func cmdLeaders(s *session, args []string) (any, func(io.Writer), error) {
	if err := noArgs(args); err != nil {
		return nil, nil, err
	}
	exs, err := s.exchangesOf(exchange.Kind)
	if err != nil {
		return nil, nil, err
	}
	var views []exchangeView
	for _, e := range exs {
		info, err := exchange.Inspect(s.ctx, s.n, e.at())
		if err != nil {
			return nil, nil, fmt.Errorf("exchange %s on %s: %w", e.Name, e.Node, err)
		}
		views = append(views, exchangeView{Node: e.Node, Info: info, StrategyName: info.Strategy.String()})
	}
	return views, func(w io.Writer) {
		fmt.Fprintln(w, "EXCHANGE\tNODE\tSTRATEGY\tLEADER\tCONTROLLERS")
		for _, v := range views {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\n", v.Name, v.Node, v.StrategyName, pid(v.Leader), len(v.Members))
		}
	}, nil
}

type pubsubView struct {
	Node string
	pubsub.Info
}

func cmdSubscriptions(s *session, args []string) (any, func(io.Writer), error) {
	if len(args) > 1 {
		return nil, nil, fmt.Errorf("unexpected arguments %q", args[1:])
	}
	var exs []located
	if len(args) == 1 {
		e, err := s.find(pubsub.Kind, args[0])
		if err != nil {
			return nil, nil, err
		}
		exs = []located{e}
	} else {
		var err error
		if exs, err = s.exchangesOf(pubsub.Kind); err != nil {
			return nil, nil, err
		}
	}
	var views []pubsubView
	for _, e := range exs {
		info, err := pubsub.Describe(s.ctx, s.n, e.at())
		if err != nil {
			return nil, nil, fmt.Errorf("exchange %s on %s: %w", e.Name, e.Node, err)
		}
		views = append(views, pubsubView{Node: e.Node, Info: info})
	}
	return views, func(w io.Writer) {
		fmt.Fprintln(w, "EXCHANGE\tNODE\tSUBSCRIBER\tPATTERN\tTAG\tUPSTREAM")
		for _, v := range views {
			up := "-"
			if v.Upstream.Name != "" {
				up = v.Upstream.Name + " " + pid(v.UpstreamPID)
			}
			for _, sub := range v.Subscriptions {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", v.Name, v.Node, pid(sub.Subscriber), sub.Pattern, dash(sub.Tag), up)
			}
			if len(v.Subscriptions) == 0 {
				fmt.Fprintf(w, "%s\t%s\t-\t-\t-\t%s\n", v.Name, v.Node, up)
			}
		}
	}, nil
}

type queueView struct {
	Node string
	tasks.Stats
	Workers []tasks.Worker
}

func cmdQueues(s *session, args []string) (any, func(io.Writer), error) {
	if err := noArgs(args); err != nil {
		return nil, nil, err
	}
	exs, err := s.exchangesOf(tasks.Kind)
	if err != nil {
		return nil, nil, err
	}
	var views []queueView
	for _, e := range exs {
		st, err := tasks.Inspect(s.ctx, s.n, e.at())
		if err != nil {
			return nil, nil, fmt.Errorf("queue %s on %s: %w", e.Name, e.Node, err)
		}
		ws, err := tasks.Workers(s.ctx, s.n, e.at())
		if err != nil {
			return nil, nil, fmt.Errorf("queue %s on %s: %w", e.Name, e.Node, err)
		}
		views = append(views, queueView{Node: e.Node, Stats: st, Workers: ws})
	}
	return views, func(w io.Writer) {
		fmt.Fprintln(w, "QUEUE\tNODE\tREADY\tIN FLIGHT\tDEAD-LETTERED\tWORKERS (PREFETCH/IN FLIGHT)")
		for _, v := range views {
			var ws []string
			for _, wk := range v.Workers {
				ws = append(ws, fmt.Sprintf("%s %d/%d", pid(wk.PID), wk.Prefetch, wk.InFlight))
			}
			fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%d\t%s\n", v.Queue, v.Node, v.Ready, v.InFlight, v.DeadLettered, dash(strings.Join(ws, ", ")))
		}
	}, nil
}
