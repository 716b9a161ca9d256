#!/usr/bin/env bash
# The whole comparison, one command (make bench-compare): installs
# RabbitMQ and NATS from Debian's packages if missing (saying so), starts a
# private RabbitMQ on loopback (bench/rabbitmq.sh), runs the benchmark
# (Switchboard, RabbitMQ and NATS interleaved; the harness starts and stops
# nats-server itself, and a RabbitMQ cluster of three for the replicated
# durable-task shape), writes bench/out/ and the results section of
# docs/benchmarks.md, and stops RabbitMQ, its epmd and its helpers however
# the run ends, a SIGKILL of this script included. Extra arguments go to the benchmark (cd bench && go run . -h).
# Then it runs the convergence benchmark (bench/converge.go) at 100 nodes.
# If RabbitMQ cannot be installed or started, the run goes on and reports
# every RabbitMQ shape as failed, with the reason.
set -uo pipefail
cd "$(dirname "$0")/.."
dir="$(mktemp -d "${TMPDIR:-/tmp}/seedbench.XXXXXX")"
# A watchdog for what no trap can catch, a SIGKILL of this script: once
# this shell is gone it stops the broker and removes $dir (the harness
# dies with this shell by itself: SEEDBENCH_DIE_WITH_PARENT).
self=$$
(
  trap '' INT TERM HUP
  tail --pid="$self" -f /dev/null
  if [ -d "$dir" ]; then
    bench/rabbitmq.sh stop-cluster "$dir/cluster"
    bench/rabbitmq.sh stop "$dir/rabbitmq"
    rm -rf "$dir"
  fi
) </dev/null >/dev/null 2>&1 &
cleanup() {
  [ -d "$dir/cluster" ] && { bench/rabbitmq.sh stop-cluster "$dir/cluster" || echo "compare.sh: the RabbitMQ cluster did not stop cleanly" >&2; }
  bench/rabbitmq.sh stop "$dir/rabbitmq" || echo "compare.sh: RabbitMQ did not stop cleanly" >&2
  rm -rf "$dir" # the watchdog, when this shell is gone, finds nothing to do
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
export SEEDBENCH_DIE_WITH_PARENT=1

# bench/ is a module of its own (bench/go.mod); -o is relative to it.
go -C bench build -o ../bin/seedbench . || exit 1

amqp=()
if ! bench/rabbitmq.sh install; then
  amqp=(-amqp-error "RabbitMQ: apt-get install rabbitmq-server failed")
elif out="$(bench/rabbitmq.sh start "$dir/rabbitmq" 2>"$dir/start.err")"; then
  url="$(sed -n 's/^AMQP_URL=//p' <<<"$out")"
  pid="$(sed -n 's/^BEAM_PID=//p' <<<"$out")"
  echo "compare.sh: RabbitMQ at $url (beam.smp pid $pid)" >&2
  # The replicated durable shape's three-broker cluster: the harness starts
  # it for that shape and stops it after; the traps above stop it too.
  amqp=(-amqp "$url" -broker-pid "$pid" -rabbit-script bench/rabbitmq.sh -rabbit-cluster-dir "$dir/cluster")
else
  cat "$dir/start.err" >&2
  amqp=(-amqp-error "RabbitMQ did not start: $(head -1 "$dir/start.err" | cut -c1-400)")
fi

bin/seedbench "${amqp[@]}" -nats-server "$(command -v nats-server || true)" \
  -out bench/out -docs docs/benchmarks.md "$@"
status=$?

# Issue 19's scale figure: 100 nodes as OS processes join one embedded
# cluster, then (when a Consul binary is at hand: SWITCHBOARD_CONSUL, or
# bin/consul from make consul or make test) 100 join one Consul dev agent
# the harness runs itself (bounded: 60 s to converge, 5 s idle each); the
# table goes into the convergence section of docs/benchmarks.md.
# SEEDBENCH_CONVERGE replaces the arguments (e.g. "-n 10,30,60,100", or
# "-provider consul -consul 127.0.0.1:8500").
consul_bin="${SWITCHBOARD_CONSUL:-}"
if [[ -z "$consul_bin" && -x bin/consul ]]; then
  consul_bin="$PWD/bin/consul"
fi
consul_converge=""
if [[ -n "$consul_bin" ]]; then
  consul_converge="-provider embedded,consul -consul-bin $consul_bin"
else
  echo "compare.sh: no Consul binary (make consul builds bin/consul): the convergence run is embedded only" >&2
fi
# shellcheck disable=SC2086
bin/seedbench converge ${SEEDBENCH_CONVERGE:--n 100 -timeout 60s $consul_converge} -out bench/out -docs docs/benchmarks.md ||
  echo "compare.sh: the convergence run did not converge or failed (see its table)" >&2
exit "$status"
