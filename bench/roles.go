package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strconv"
	"time"

	"github.com/switchboard-go/switchboard/exchange"
)

// The harness re-executes its own binary in roles, one per OS process. A
// role learns what to do from the environment, says "READY <detail>" (or
// "ERR <error>") on stdout once it is up, and lives until its stdin
// closes. A client then reads one JSON Shape per line and answers one JSON
// Outcome per line.
const (
	envRole      = "SEEDBENCH_ROLE"
	envSystem    = "SEEDBENCH_SYSTEM"     // client: Switchboard, RabbitMQ or NATS
	envTarget    = "SEEDBENCH_TARGET"     // the exchange node's address, the AMQP or NATS URL
	envServe     = "SEEDBENCH_SERVE_HERE" // "1": the server side runs in this process too
	envQueue     = "SEEDBENCH_QUEUE"      // the AMQP queue or NATS subject
	envTimeout   = "SEEDBENCH_TIMEOUT"    // a shape's time limit
	envWarmup    = "SEEDBENCH_WARMUP"     // cycles before READY
	envIdleCount = "SEEDBENCH_IDLE"       // memory roles: how many idle processes
	envProfile   = "SEEDBENCH_CPUPROFILE" // a file for this process's CPU profile
	envEcho      = "SEEDBENCH_ECHO"       // bare TCP client, three nodes: the echo's address
	envDurable   = "SEEDBENCH_DURABLE"    // client: "one" or "replicated", a durable-task client (durable.go)
	envDir       = "SEEDBENCH_DIR"        // durable roles: the directory for their stores
	envPeers     = "SEEDBENCH_PEERS"      // replicated Switchboard: name=node address=raft address,…
	envName      = "SEEDBENCH_NAME"       // standby: its name in SEEDBENCH_PEERS
)

const (
	roleClient          = "client"
	roleSBExchange      = "sb-exchange"
	roleSBController    = "sb-controller"
	roleSBStandby       = "sb-standby"
	roleRabbitServer    = "rabbit-server"
	roleNATSServer      = "nats-server"
	roleTCPRelay        = "tcp-relay"
	roleTCPEcho         = "tcp-echo"
	roleIdleActors      = "idle-actors"
	roleIdleControllers = "idle-controllers"
	roleFanOut          = "fanout"
)

// runRole runs the role named by the environment and returns the exit code.
func runRole(role string, stdin io.Reader, stdout io.Writer) int {
	if path := os.Getenv(envProfile); path != "" {
		if f, err := os.Create(path); err == nil {
			if pprof.StartCPUProfile(f) == nil {
				defer f.Close()
				defer pprof.StopCPUProfile()
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	say := func(format string, a ...any) { fmt.Fprintf(stdout, format+"\n", a...) }
	fail := func(err error) int {
		cancel()
		say("ERR %s", oneLine(err.Error()))
		return 1
	}
	wait := func() { _, _ = io.Copy(io.Discard, stdin) } // until the harness closes our stdin
	queue := os.Getenv(envQueue)
	here := os.Getenv(envServe) == "1"
	switch role {
	case roleSBExchange:
		n, err := startNode("exchange@localhost", "127.0.0.1:0")
		if err != nil {
			return fail(err)
		}
		defer stopNode(n)
		if err := startExchange(ctx, n); err != nil {
			return fail(err)
		}
		if here {
			if err := startController(ctx, n, exchange.Named(exchangeName)); err != nil {
				return fail(err)
			}
		}
		cancel()
		say("READY %s", n.Address())
		wait()
	case roleSBController:
		n, err := startNode("controller@localhost", "127.0.0.1:0")
		if err != nil {
			return fail(err)
		}
		defer stopNode(n)
		if err := startController(ctx, n, exchange.At(os.Getenv(envTarget), exchangeName)); err != nil {
			return fail(err)
		}
		cancel()
		say("READY %s", n.Address())
		wait()
	case roleSBStandby:
		stop, err := runStandby(ctx, os.Getenv(envName), os.Getenv(envDir))
		if err != nil {
			return fail(err)
		}
		defer stop()
		cancel()
		say("READY")
		wait()
	case roleRabbitServer, roleNATSServer:
		var s interface{ stop() }
		var err error
		if role == roleRabbitServer {
			s, err = startRabbitServer(os.Getenv(envTarget), queue)
		} else {
			s, err = startNATSServer(os.Getenv(envTarget), queue)
		}
		if err != nil {
			return fail(err)
		}
		defer s.stop()
		cancel()
		say("READY")
		wait()
	case roleTCPEcho, roleTCPRelay:
		var s interface {
			addr() string
			stop()
		}
		var err error
		if role == roleTCPEcho {
			s, err = startTCPEcho("127.0.0.1:0")
		} else {
			s, err = startTCPRelay("127.0.0.1:0", os.Getenv(envTarget))
		}
		if err != nil {
			return fail(err)
		}
		defer s.stop()
		cancel()
		say("READY %s", s.addr())
		wait()
	case roleConvergeNode:
		cancel()
		return runConvergeNode(stdin, stdout)
	case roleClient:
		defer cancel()
		if os.Getenv(envDurable) != "" {
			return runDurableClient(ctx, stdin, stdout)
		}
		return runClient(ctx, stdin, stdout)
	case roleIdleActors, roleIdleControllers:
		cancel()
		n, err := strconv.Atoi(os.Getenv(envIdleCount))
		if err != nil || n < 1 {
			return fail(fmt.Errorf("%s=%q: want a count", envIdleCount, os.Getenv(envIdleCount)))
		}
		var m Memory
		if role == roleIdleActors {
			m, err = measureIdleActors(n)
		} else {
			m, err = measureIdleControllers(n)
		}
		if err != nil {
			return fail(err)
		}
		b, _ := json.Marshal(m)
		say("READY %s", b)
	case roleFanOut:
		cancel()
		f, err := runFanOut()
		if err != nil {
			return fail(err)
		}
		b, _ := json.Marshal(f)
		say("READY %s", b)
	default:
		return fail(fmt.Errorf("unknown role %q", role))
	}
	return 0
}

func runClient(setup context.Context, stdin io.Reader, stdout io.Writer) int {
	timeout, warmup := clientLimits()
	system, at, queue := System(os.Getenv(envSystem)), os.Getenv(envTarget), os.Getenv(envQueue)
	here := os.Getenv(envServe) == "1"
	var t target
	var err error
	switch system {
	case Switchboard:
		if here {
			at = ""
		}
		t, err = newSwitchboardTarget(setup, at)
	case RabbitMQ:
		t, err = newRabbitTarget(at, queue, here)
	case NATS:
		t, err = newNATSTarget(at, queue, here)
	case BareTCP:
		t, err = newTCPTarget(at, os.Getenv(envEcho), here)
	default:
		err = fmt.Errorf("unknown system %q", system)
	}
	if err != nil {
		fmt.Fprintf(stdout, "ERR %s\n", oneLine(err.Error()))
		return 1
	}
	defer t.close()
	if warmup > 0 { // connections made, code paged in, caches warm: for every system alike
		if o := drive(context.Background(), t, Shape{Cycles: warmup, Callers: min(10, warmup)}, timeout); o.Err != "" {
			fmt.Fprintf(stdout, "ERR warm-up: %s\n", oneLine(o.Err))
			return 1
		}
	}
	fmt.Fprintln(stdout, "READY")
	serveShapes(stdin, stdout, func(s Shape) Outcome { return drive(context.Background(), t, s, timeout) })
	return 0
}

// clientLimits are a client's shape time limit and warm-up cycles, from
// its environment.
func clientLimits() (time.Duration, int) {
	timeout, err := time.ParseDuration(os.Getenv(envTimeout))
	if err != nil {
		timeout = 3 * time.Minute
	}
	warmup, _ := strconv.Atoi(os.Getenv(envWarmup))
	return timeout, warmup
}

// serveShapes answers each JSON Shape on stdin with run's JSON Outcome.
func serveShapes(stdin io.Reader, stdout io.Writer, run func(Shape) Outcome) {
	in := bufio.NewScanner(stdin)
	enc := json.NewEncoder(stdout)
	for in.Scan() {
		var s Shape
		if err := json.Unmarshal(in.Bytes(), &s); err != nil {
			_ = enc.Encode(Outcome{Err: "bad command: " + err.Error()})
			continue
		}
		_ = enc.Encode(run(s))
	}
}

// runDurableClient is the client of a durable topology: the queue's
// producers and workers (for Switchboard, the queue's node too).
func runDurableClient(setup context.Context, stdin io.Reader, stdout io.Writer) int {
	timeout, warmup := clientLimits()
	system, at, queue, dir := System(os.Getenv(envSystem)), os.Getenv(envTarget), os.Getenv(envQueue), os.Getenv(envDir)
	replicated := os.Getenv(envDurable) == "replicated"
	shape := DurableShapes()[0] // workers and prefetch: every durable shape has the same
	acks := &ackCounter{}
	var t durableTarget
	var err error
	switch system {
	case Switchboard:
		t, err = newSwitchboardDurable(setup, dir, replicated, shape.Workers, shape.Prefetch, acks)
	case RabbitMQ:
		t, err = newRabbitDurable(at, queue, shape.Workers, shape.Prefetch, acks)
	case NATS:
		replicas := 1
		if replicated {
			replicas = 3
		}
		t, err = newNATSDurable(setup, at, queue, replicas, shape.Workers, shape.Prefetch, acks)
	default:
		err = fmt.Errorf("no durable queue for system %q", system)
	}
	if err != nil {
		fmt.Fprintf(stdout, "ERR %s\n", oneLine(err.Error()))
		return 1
	}
	defer t.close()
	if warmup > 0 {
		w := shape
		w.Cycles = max(warmup, w.Callers)
		if o := driveDurable(context.Background(), t, acks, w, timeout); o.Err != "" {
			fmt.Fprintf(stdout, "ERR warm-up: %s\n", oneLine(o.Err))
			return 1
		}
	}
	fmt.Fprintln(stdout, "READY")
	serveShapes(stdin, stdout, func(s Shape) Outcome { return driveDurable(context.Background(), t, acks, s, timeout) })
	return 0
}

func oneLine(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c == '\n' || c == '\r' {
			b[i] = ' '
		}
	}
	return string(b)
}
