package main

import (
	"fmt"
	"strings"
)

// durableGoal is what issue 15 asks of Switchboard's durable queues: at
// least min confirmed tasks/s, and ahead of RabbitMQ and NATS.
func durableGoal(t Topology) float64 {
	if t == DurableReplicated {
		return 20000
	}
	return 50000
}

// durableSystems are the systems of the durable tables: bare TCP has no
// queue.
func (r *Report) durableSystems() []System {
	var out []System
	for _, s := range r.Config.Systems {
		if s.Has(DurableOne) {
			out = append(out, s)
		}
	}
	return out
}

// durableVerdict is the target cell of (t, s).
func (r *Report) durableVerdict(t Topology, s Shape) string {
	var parts []string
	if run, ok := r.find(t, Switchboard, s); ok && run.Failed() == "" {
		g := durableGoal(t)
		met := "met"
		if run.Outcome.Rate() < g {
			met = "**not met**"
		}
		parts = append(parts, fmt.Sprintf("≥ %s/s: %s", thousands(int(g)), met))
	} else {
		parts = append(parts, fmt.Sprintf("≥ %s/s: not met (not run or failed)", thousands(int(durableGoal(t)))))
	}
	for _, base := range []System{RabbitMQ, NATS} {
		switch x, _, ok := r.against(Switchboard, base, t, s); {
		case !has(r.Config.Systems, base):
			parts = append(parts, "ahead of "+string(base)+": not run")
		case !ok:
			parts = append(parts, "ahead of "+string(base)+": not met (a run failed)")
		case x < 1:
			parts = append(parts, fmt.Sprintf("ahead of %s: **not met** (%.2f×)", base, x))
		default:
			parts = append(parts, fmt.Sprintf("ahead of %s: met (%.2f×)", base, x))
		}
	}
	return strings.Join(parts, "; ")
}

// durableMarkdown renders the durable-task shapes.
func (r *Report) durableMarkdown(w func(string, ...any)) {
	systems := r.durableSystems()
	w("### Durable tasks: confirmed per second\n\n")
	w("Producers submit %d-byte tasks to a durable queue, each keeping a window of unconfirmed submissions, ", taskSize)
	w("and count a task once its confirm is back (stored, synced, replicated where the topology says so); workers consume and ack each task. ")
	w("Each cell: confirmed tasks/s (first submission to last confirm) · CPU per task (the topology's processes, summed, over the tasks). ")
	w("Targets: ≥ 50,000/s in one node, ≥ 20,000/s replicated to two standbys, ahead of RabbitMQ and NATS in both. ")
	w("The systems took turns, as for the seed's shapes.\n\n")
	w("| topology | shape |")
	for _, s := range systems {
		w(" %s |", s)
	}
	var bases []System
	for _, s := range systems {
		if s != Switchboard && has(systems, Switchboard) {
			bases = append(bases, s)
		}
	}
	for _, b := range bases {
		w(" Switchboard ÷ %s |", b)
	}
	w(" target |\n|---|---|")
	for range len(systems) + len(bases) {
		w("---:|")
	}
	w("---|\n")
	for _, t := range r.Config.DurableTopologies {
		for _, s := range r.Config.DurableShapes {
			w("| %s | %s |", t, s.Label())
			for _, sys := range systems {
				run, ok := r.find(t, sys, s)
				w(" %s |", cell(run, ok))
			}
			for _, b := range bases {
				if x, _, ok := r.against(Switchboard, b, t, s); ok {
					w(" %.2f× |", x)
				} else {
					w(" — |")
				}
			}
			w(" %s |\n", r.durableVerdict(t, s))
		}
	}
	w("\n*Durable, one node*: Switchboard — `exchange/tasks` with `Spec.Dir` (its segment log, group commit: one fsync per batch), ")
	w("producers (`patterns.Tasks.SubmitAsync`) and workers (`patterns.Worker`) in the queue's node, one OS process; ")
	w("RabbitMQ — a quorum queue on the one broker, persistent messages, publisher confirms (one channel per producer), ")
	w("workers with manual acks and basic.qos; NATS — a JetStream stream with file storage, R1, work-queue retention, on one `nats-server -js`, ")
	w("`PublishAsync`, one durable pull consumer shared by the workers, explicit acks. ")
	w("*Durable, replicated*: Switchboard — `Spec.Replica`, a `hashicorp/raft` group of three nodes (three OS processes on loopback: ")
	w("the leader holding the queue, producers and workers, and two standbys), a confirm once a majority stored the batch; ")
	w("NATS — R3 on three `nats-server -js` clustered on loopback; ")
	switch why, ok := strings.CutPrefix(r.RabbitReplicated, "the single broker: "); {
	case r.RabbitReplicated == "cluster":
		w("RabbitMQ — a quorum queue with a member on each of three clustered brokers on loopback (`bench/rabbitmq.sh start-cluster`, ")
		w("started for this shape and stopped after it), the client connected to the first. ")
	case ok:
		w("RabbitMQ — **the same single-broker quorum queue as in one node, not replicated** (no cluster: %s). ", mdEscape(clip(why, 200)))
	}
	w("JetStream 2.9 acknowledges a publish once the stream's leader (R1) or a majority (R3) wrote it, without an fsync ")
	w("(its file store syncs every two minutes); Switchboard and RabbitMQ's quorum queues fsync before they confirm.\n\n")

	w("| topology | shape | system | confirmed/s | completed/s | CPU per task | confirm p50 | p99 | p99.9 | CPU per process |\n")
	w("|---|---|---|---:|---:|---:|---:|---:|---:|---|\n")
	for _, t := range r.Config.DurableTopologies {
		for _, s := range r.Config.DurableShapes {
			for _, sys := range systems {
				run, ok := r.find(t, sys, s)
				if !ok {
					continue
				}
				if e := run.Failed(); e != "" {
					w("| %s | %s | %s | **failed**: %s | | | | | | |\n", t, s.Label(), sys, mdEscape(clip(e, 300)))
					continue
				}
				l := run.Outcome.Latency
				w("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", t, s.Label(), sys, thousands(int(run.Outcome.Rate()+0.5)),
					thousands(int(run.Outcome.CompletedRate()+0.5)), fmtCPU(run.CPUPerCycle()), fmtDur(l.P50), fmtDur(l.P99), fmtDur(l.P999),
					run.cpuList())
			}
		}
	}
	w("\n")
}
