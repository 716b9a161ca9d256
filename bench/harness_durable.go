package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// deployDurable starts the processes of d.system in the durable topology
// topo: for Switchboard the queue's node (the client, with its producers
// and workers) and, replicated, two standbys; for NATS its nats-server -js
// processes and the client; for RabbitMQ the client beside the broker.
func (h *harness) deployDurable(d *deployment, topo Topology, client map[string]string,
	start func(role, name string, env map[string]string) (string, error)) error {
	replicated := topo == DurableReplicated
	client[envDurable] = "one"
	if replicated {
		client[envDurable] = "replicated"
	}
	dir := filepath.Join(h.dir, string(d.system), topo.Short())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	client[envDir] = dir
	switch d.system {
	case Switchboard:
		if !replicated {
			_, err := start(roleClient, "node", client)
			return err
		}
		addrs, err := freeAddrs(6)
		if err != nil {
			return err
		}
		var peers []string
		for i, name := range []string{"a", "b", "c"} {
			peers = append(peers, name+"="+addrs[i]+"="+addrs[3+i])
		}
		client[envPeers] = strings.Join(peers, ",")
		for _, name := range []string{"b", "c"} {
			if _, err := start(roleSBStandby, "standby "+name, map[string]string{envName: name, envPeers: client[envPeers], envDir: dir}); err != nil {
				return err
			}
		}
		_, err = start(roleClient, "leader (queue, producers, workers)", client)
		return err
	case RabbitMQ:
		if h.cfg.AMQPError != "" {
			return errors.New(h.cfg.AMQPError)
		}
		if h.cfg.AMQPURL == "" {
			return errors.New("no RabbitMQ: give -amqp")
		}
		client[envTarget] = h.cfg.AMQPURL
		var brokers []proc
		if h.cfg.BrokerPID > 0 {
			brokers = []proc{{"broker", h.cfg.BrokerPID}}
		}
		if replicated {
			url, pids, err := h.startRabbitCluster(d)
			if err != nil {
				h.rep.RabbitReplicated = "the single broker: " + err.Error()
			} else {
				h.rep.RabbitReplicated = "cluster"
				client[envTarget], brokers = url, pids
			}
		}
		if _, err := start(roleClient, "client (producers, workers)", client); err != nil {
			return err
		}
		d.procs = append(d.procs, brokers...)
		return nil
	case NATS:
		urls, err := h.startJetStream(d, dir, replicated)
		if err != nil {
			return err
		}
		client[envTarget] = urls
		if _, err = start(roleClient, "client (producers, workers)", client); err != nil {
			for _, c := range d.children { // what the servers said
				err = fmt.Errorf("%w; %s%s", err, c.role, c.tail.report())
			}
		}
		return err
	}
	return fmt.Errorf("%s has no durable queue", d.system)
}

// startJetStream starts one nats-server -js with its store in dir or,
// replicated, three clustered on loopback, as children of d, and returns
// their client URLs, comma-separated.
func (h *harness) startJetStream(d *deployment, dir string, replicated bool) (string, error) {
	if h.cfg.NATSServer == "" {
		return "", errors.New("no nats-server binary given (-nats-server)")
	}
	servers := 1
	if replicated {
		servers = 3
	}
	addrs, err := freeAddrs(2 * servers) // client ports, then cluster ports
	if err != nil {
		return "", err
	}
	var urls, routes []string
	for i := range servers {
		urls, routes = append(urls, "nats://"+addrs[i]), append(routes, "nats://"+addrs[servers+i])
	}
	for i := range servers {
		name := "nats-server"
		if replicated {
			name = "nats-server " + strconv.Itoa(i+1)
		}
		_, port, _ := strings.Cut(addrs[i], "127.0.0.1:")
		args := []string{"-js", "-sd", filepath.Join(dir, strconv.Itoa(i+1)), "-a", "127.0.0.1", "-p", port,
			"--server_name", "seedbench-" + strconv.Itoa(i+1)}
		if replicated {
			var others []string
			for j, r := range routes {
				if j != i {
					others = append(others, r)
				}
			}
			args = append(args, "--cluster_name", "seedbench", "--cluster", routes[i], "--routes", strings.Join(others, ","))
		}
		c, err := startNATSProcess(name, h.cfg.NATSServer, addrs[i], args...)
		if err != nil {
			return "", err
		}
		d.children = append(d.children, c)
		d.procs = append(d.procs, proc{name, c.pid()})
	}
	return strings.Join(urls, ","), nil
}

// startRabbitCluster starts three clustered brokers with
// bench/rabbitmq.sh start-cluster, to be stopped with d, and returns the
// first one's AMQP URL and the brokers' beam.smp processes.
func (h *harness) startRabbitCluster(d *deployment) (string, []proc, error) {
	if h.cfg.RabbitScript == "" || h.cfg.RabbitClusterDir == "" {
		return "", nil, errors.New("no -rabbit-script and -rabbit-cluster-dir to start a cluster with")
	}
	h.logf("   RabbitMQ: starting a cluster of three brokers (%s start-cluster)", h.cfg.RabbitScript)
	stop := func() {
		if out, err := exec.Command(h.cfg.RabbitScript, "stop-cluster", h.cfg.RabbitClusterDir).CombinedOutput(); err != nil {
			h.logf("   RabbitMQ: the cluster did not stop cleanly: %v %s", err, oneLine(string(out)))
		}
	}
	cmd := exec.Command(h.cfg.RabbitScript, "start-cluster", h.cfg.RabbitClusterDir)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		stop()
		return "", nil, fmt.Errorf("rabbitmq.sh start-cluster: %v: %s", err, clip(oneLine(stderr.String()), 300))
	}
	d.stops = append(d.stops, stop)
	var url string
	var pids []proc
	for _, l := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(l, "AMQP_URL="); ok {
			url = v
		}
		if v, ok := strings.CutPrefix(l, "BEAM_PIDS="); ok {
			for i, p := range strings.Split(v, ",") {
				if pid, err := strconv.Atoi(strings.TrimSpace(p)); err == nil {
					pids = append(pids, proc{fmt.Sprintf("broker %d", i+1), pid})
				}
			}
		}
	}
	if url == "" || len(pids) != 3 {
		return "", nil, fmt.Errorf("rabbitmq.sh start-cluster said %q", clip(oneLine(string(out)), 300))
	}
	return url, pids, nil
}
