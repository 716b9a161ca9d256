// Command bench is the seed benchmark, side by side with RabbitMQ (and
// NATS, and bare TCP as the floor): a client sends ping to an exchange and waits for pong, sequential
// 10,000, 20,000 and 100,000 cycles, then 100,000 cycles over 2, 4, 10 and
// 100 parallel callers; in one node, in three nodes (client, exchange,
// controller: three OS processes on loopback) and with the exchange on the
// controller's node. It reports cycles/s, p50/p99/p99.9 latency, CPU per
// process, resident memory per process and bytes per idle actor and idle
// controller, beside the published figures, as Markdown (printed and
// written) and a PNG chart.
//
// The whole comparison, RabbitMQ included, is one command:
//
//	make bench-compare
//
// which runs bench/compare.sh: it installs and starts a private RabbitMQ
// (bench/rabbitmq.sh), runs this program, and stops the broker. Run alone,
// this program compares whatever systems its flags give it; bench/ is a
// module of its own (bench/go.mod, so that the library's users do not
// inherit its dependencies), so it runs from its directory:
//
//	cd bench && go run . -systems Switchboard -scale 10
//
// Every process of a run is this binary in a role (see roles.go), started
// by the harness with static loopback addresses in its environment; a
// child dies with the harness.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

func main() {
	if role := os.Getenv(envRole); role != "" {
		os.Exit(runRole(role, os.Stdin, os.Stdout))
	}
	if len(os.Args) > 1 && os.Args[1] == "converge" { // the convergence benchmark (converge.go)
		if os.Getenv("SEEDBENCH_DIE_WITH_PARENT") == "1" {
			dieWithParent()
		}
		os.Exit(convergeMain(os.Args[2:]))
	}
	if os.Getenv("SEEDBENCH_DIE_WITH_PARENT") == "1" { // set by bench/compare.sh
		dieWithParent()
	}
	cfg, out, docs, from, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	var rep *Report
	if from != "" { // render an earlier run again
		rep = &Report{}
		b, err := os.ReadFile(from)
		if err == nil {
			err = json.Unmarshal(b, rep)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
	} else {
		rep = runComparison(cfg)
	}
	md, err := writeOutputs(rep, out, docs)
	fmt.Println(md)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

var topologyNames = map[string]Topology{"one": OneNode, "three": ThreeNodes, "colocated": TwoNodes,
	"durable": DurableOne, "replicated": DurableReplicated}

func parseFlags(args []string) (cfg Config, out, docs, from string, err error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	systems := fs.String("systems", "Switchboard,RabbitMQ,NATS,TCP", "systems to compare, comma-separated (TCP: bare TCP, the floor)")
	topos := fs.String("topologies", "one,three,colocated,durable,replicated", "topologies: one (node), three (nodes), colocated (exchange on the controller's node); "+
		"durable (durable tasks in one node), replicated (durable tasks replicated to two standbys)")
	scale := fs.Int("scale", 1, "divide every shape's cycles by this (1: the seed's shapes)")
	callers := fs.String("callers", "", "run only the shapes with these numbers of callers, comma-separated (1: the sequential ones); empty: all")
	fs.StringVar(&cfg.AMQPURL, "amqp", "", "RabbitMQ's AMQP URL")
	fs.StringVar(&cfg.AMQPError, "amqp-error", "", "why there is no RabbitMQ: its shapes are reported failed with this")
	fs.IntVar(&cfg.BrokerPID, "broker-pid", 0, "RabbitMQ's beam.smp process, for its CPU and memory")
	fs.StringVar(&cfg.RabbitScript, "rabbit-script", "", "bench/rabbitmq.sh, to start a three-broker cluster for the replicated durable shape")
	fs.StringVar(&cfg.RabbitClusterDir, "rabbit-cluster-dir", "", "the directory of that cluster (bench/compare.sh stops it however the run ends)")
	fs.StringVar(&cfg.NATSServer, "nats-server", "", "nats-server binary to start on loopback for the run")
	fs.IntVar(&cfg.IdleActors, "idle-actors", 1000000, "idle actors to spawn for bytes per actor (0: skip)")
	fs.IntVar(&cfg.IdleControllers, "idle-controllers", 1000000, "idle controllers to start for bytes per controller (0: skip)")
	cfg.FanOut = SeedFanOut()
	fs.IntVar(&cfg.FanOut.Publishes, "fanout", cfg.FanOut.Publishes, "publishes of the fan-out shape (one publish to 1,000,000 subscriptions on 10 nodes; 0: skip)")
	fs.IntVar(&cfg.Warmup, "warmup", 2000, "cycles each client makes before its first shape")
	fs.DurationVar(&cfg.Timeout, "timeout", 3*time.Minute, "time limit of one shape; past it the shape fails")
	fs.DurationVar(&cfg.Pause, "pause", 100*time.Millisecond, "pause before each measured run")
	fs.StringVar(&cfg.ProfileDir, "cpuprofile", "", "directory for a CPU profile of every benchmark process (go tool pprof)")
	fs.StringVar(&out, "out", "out", "directory for results.md, results.json and chart.png (bench/out, run from bench/)")
	fs.StringVar(&from, "from", "", "render the results.json of an earlier run instead of running")
	fs.StringVar(&docs, "docs", "", "a Markdown page whose results section to replace (and benchmarks.png beside it)")
	if err = fs.Parse(args); err != nil {
		return
	}
	for _, s := range strings.Split(*systems, ",") {
		switch sys := System(strings.TrimSpace(s)); sys {
		case Switchboard, RabbitMQ, NATS:
			cfg.Systems = append(cfg.Systems, sys)
		case "TCP", BareTCP:
			cfg.Systems = append(cfg.Systems, BareTCP)
		default:
			return cfg, "", "", "", fmt.Errorf("unknown system %q (Switchboard, RabbitMQ, NATS, TCP)", s)
		}
	}
	for _, t := range strings.Split(*topos, ",") {
		topo, ok := topologyNames[strings.TrimSpace(t)]
		if !ok {
			return cfg, "", "", "", fmt.Errorf("unknown topology %q (one, three, colocated, durable, replicated)", t)
		}
		if topo.durable() {
			cfg.DurableTopologies = append(cfg.DurableTopologies, topo)
		} else {
			cfg.Topologies = append(cfg.Topologies, topo)
		}
	}
	if *scale < 1 {
		return cfg, "", "", "", errors.New("-scale must be at least 1")
	}
	cfg.Shapes = Scaled(SeedShapes(), *scale)
	if len(cfg.Topologies) == 0 {
		cfg.Shapes = nil
	}
	if len(cfg.DurableTopologies) > 0 {
		cfg.DurableShapes = Scaled(DurableShapes(), *scale)
	}
	if *callers != "" {
		keep := map[int]bool{}
		for _, c := range strings.Split(*callers, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(c))
			if err != nil || n < 1 {
				return cfg, "", "", "", fmt.Errorf("-callers: %q is not a number of callers", c)
			}
			keep[n] = true
		}
		cfg.Shapes = slices.DeleteFunc(cfg.Shapes, func(s Shape) bool { return !keep[s.Callers] })
		if len(cfg.Shapes) == 0 && len(cfg.Topologies) > 0 {
			return cfg, "", "", "", fmt.Errorf("-callers %s: no shape has that many callers (1, 2, 4, 10, 100)", *callers)
		}
	}
	if cfg.ProfileDir != "" {
		if cfg.ProfileDir, err = filepath.Abs(cfg.ProfileDir); err == nil {
			err = os.MkdirAll(cfg.ProfileDir, 0o755)
		}
		if err != nil {
			return
		}
	}
	if cfg.Exe, err = os.Executable(); err != nil {
		return
	}
	cfg.Progress = os.Stderr
	return
}

const (
	beginMark = "<!-- seedbench:begin (written by bench/, do not edit by hand) -->"
	endMark   = "<!-- seedbench:end -->"
)

// writeOutputs writes results.md, results.json and chart.png to out and,
// if docs is set, replaces the results section of that page and writes
// benchmarks.png beside it. It returns the Markdown.
func writeOutputs(rep *Report, out, docs string) (string, error) {
	var chart bytes.Buffer
	chartErr := writeChart(rep, &chart)
	chartName := "chart.png"
	if chartErr != nil {
		chartName = ""
	}
	md := rep.Markdown(chartName)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return md, err
	}
	raw, _ := json.MarshalIndent(rep, "", "  ")
	errs := []error{chartErr,
		os.WriteFile(filepath.Join(out, "results.md"), []byte("# Seed benchmark results\n\n"+md), 0o644),
		os.WriteFile(filepath.Join(out, "results.json"), raw, 0o644)}
	if chartErr == nil {
		errs = append(errs, os.WriteFile(filepath.Join(out, "chart.png"), chart.Bytes(), 0o644))
	}
	if docs != "" {
		png := filepath.Join(filepath.Dir(docs), "benchmarks.png")
		name := ""
		if chartErr == nil {
			errs = append(errs, os.WriteFile(png, chart.Bytes(), 0o644))
			name = filepath.Base(png)
		}
		errs = append(errs, updateDocs(docs, rep.Markdown(name)))
	}
	return md, errors.Join(errs...)
}

// updateDocs replaces what is between the results markers of page with
// section.
func updateDocs(page, section string) error {
	return replaceSection(page, beginMark, endMark, section)
}

// replaceSection replaces what is between the markers begin and end of
// page with section; the rest of the page stays as it is.
func replaceSection(page, begin, end, section string) error {
	old, err := os.ReadFile(page)
	if err != nil {
		return err
	}
	s := string(old)
	i := strings.Index(s, begin)
	j := strings.Index(s[max(i, 0):], end) + max(i, 0)
	if i < 0 || j < i+len(begin) {
		return fmt.Errorf("%s: no %q … %q section to replace", page, begin, end)
	}
	s = s[:i+len(begin)] + "\n\n" + section + "\n" + s[j:]
	return os.WriteFile(page, []byte(s), 0o644)
}
