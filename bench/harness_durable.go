package main

import (
	"errors"
	"fmt"
	"os"
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
		if _, err := start(roleClient, "client (producers, workers)", client); err != nil {
			return err
		}
		if h.cfg.BrokerPID > 0 {
			d.procs = append(d.procs, proc{"broker", h.cfg.BrokerPID})
		}
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
