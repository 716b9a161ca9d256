#!/usr/bin/env bash
# Starts and stops a private RabbitMQ for the comparison: Debian's
# rabbitmq-server (installed with apt-get if missing, saying so), bound to
# loopback on a non-default port, with its own epmd on a non-default port,
# its data, logs, cookie and pid file in one private directory. It never
# touches a system RabbitMQ or the machine's epmd.
#
#   bench/rabbitmq.sh install        install rabbitmq-server (and nats-server) if missing
#   bench/rabbitmq.sh start DIR      start; prints AMQP_URL=… and BEAM_PID=… once it takes connections
#   bench/rabbitmq.sh stop DIR       stop it and kill what is left of it (beam, epmd, helpers)
#   bench/rabbitmq.sh start-cluster DIR   three more brokers, clustered (the durable shapes'
#                                    replicated quorum queue); prints AMQP_URL=… and BEAM_PIDS=…
#   bench/rabbitmq.sh stop-cluster DIR    stop them
#
# Ports: AMQP 127.0.0.1:${SEEDBENCH_AMQP_PORT:-5699}, distribution
# 127.0.0.1:${SEEDBENCH_DIST_PORT:-25699}, epmd 127.0.0.1:${SEEDBENCH_EPMD_PORT:-14399}.
set -euo pipefail

AMQP_PORT="${SEEDBENCH_AMQP_PORT:-5699}"
DIST_PORT="${SEEDBENCH_DIST_PORT:-25699}"
EPMD_PORT="${SEEDBENCH_EPMD_PORT:-14399}"
RABBIT_BIN=/usr/lib/rabbitmq/bin

install() {
  local want=()
  [ -x "$RABBIT_BIN/rabbitmq-server" ] || want+=(rabbitmq-server)
  command -v nats-server >/dev/null || want+=(nats-server)
  [ ${#want[@]} -eq 0 ] && return 0
  echo "rabbitmq.sh: installing ${want[*]} from Debian's packages (apt-get)" >&2
  # Keep the package's maintainer scripts from starting a system broker.
  local policy=/usr/sbin/policy-rc.d made=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && made=1
  fi
  local rc=0
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null; } || rc=$?
  [ -n "$made" ] && rm -f "$policy"
  return $rc
}

env_for() { # DIR: the environment of every rabbitmq command of this instance
  local dir="$1"
  export HOME="$dir" # the Erlang cookie lives here, not in root's home
  export RABBITMQ_NODENAME="${SEEDBENCH_NODE:-seedbench}@localhost"
  export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
  export RABBITMQ_NODE_PORT="$AMQP_PORT"
  export RABBITMQ_DIST_PORT="$DIST_PORT"
  export ERL_EPMD_PORT="$EPMD_PORT"
  export ERL_EPMD_ADDRESS=127.0.0.1
  export RABBITMQ_MNESIA_BASE="$dir/mnesia"
  export RABBITMQ_LOG_BASE="$dir/log"
  export RABBITMQ_PID_FILE="$dir/beam.pid"
  export RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins"
  export RABBITMQ_CONFIG_FILE="$dir/rabbitmq" # rabbitmq.conf
  export RABBITMQ_ADVANCED_CONFIG_FILE="$dir/advanced.config"
  export RABBITMQ_CONF_ENV_FILE="$dir/rabbitmq-env.conf"
  # Erlang distribution (rabbitmqctl talks to the broker over it) on loopback too.
  export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
  export RABBITMQ_CTL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
}

start() {
  local dir="$1"
  mkdir -p "$dir/mnesia" "$dir/log"
  env_for "$dir"
  echo '[].' >"$dir/enabled_plugins"
  : >"$dir/rabbitmq-env.conf"
  echo '[].' >"$dir/advanced.config"
  cat >"$dir/rabbitmq.conf" <<CONF
listeners.tcp.1 = 127.0.0.1:$AMQP_PORT
loopback_users = none
CONF
  # Our own epmd, in the foreground of a background job, so its pid is ours.
  epmd -port "$EPMD_PORT" -address 127.0.0.1 >"$dir/log/epmd.log" 2>&1 &
  echo $! >"$dir/epmd.pid"
  # setsid: the broker and its helpers form one process group, killed as one.
  setsid "$RABBIT_BIN/rabbitmq-server" >"$dir/log/server.out" 2>&1 </dev/null &
  echo $! >"$dir/server.pid"
  local i
  for i in $(seq 1 120); do
    if [ -s "$dir/beam.pid" ] && "$RABBIT_BIN/rabbitmqctl" -q -t 5 await_startup >/dev/null 2>&1; then
      echo "AMQP_URL=amqp://guest:guest@127.0.0.1:$AMQP_PORT/"
      echo "BEAM_PID=$(cat "$dir/beam.pid")"
      return 0
    fi
    if ! kill -0 "$(cat "$dir/server.pid")" 2>/dev/null; then
      local why
      why="$({ grep -m1 'init terminating' "$dir/log/server.out" || grep -m1 -i 'error' "$dir/log/server.out"; } | cut -c1-400)"
      echo "rabbitmq.sh: rabbitmq-server exited: ${why:-see below}" >&2
      tail -20 "$dir/log/server.out" >&2
      return 1
    fi
    sleep 1
  done
  echo "rabbitmq.sh: RabbitMQ did not start in 120 s" >&2
  return 1
}

alive() { # PID: running, not merely a zombie waiting for init to reap it
  local state
  state="$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" || return 1
  [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

stop() {
  local dir="$1"
  [ -d "$dir" ] || return 0
  env_for "$dir"
  if [ -s "$dir/beam.pid" ]; then
    timeout 30 "$RABBIT_BIN/rabbitmqctl" -q -t 20 stop >/dev/null 2>&1 || true
  fi
  local pid pgid
  if [ -s "$dir/server.pid" ]; then
    pid="$(cat "$dir/server.pid")"
    kill -TERM -- "-$pid" 2>/dev/null || true # the whole group: sh wrappers, beam, erl_child_setup
    sleep 1
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  for f in beam.pid epmd.pid; do
    [ -s "$dir/$f" ] || continue
    pid="$(cat "$dir/$f")"
    kill -KILL "$pid" 2>/dev/null || true
  done
  sleep 0.5
  local left=""
  for f in beam.pid epmd.pid; do
    [ -s "$dir/$f" ] && alive "$(cat "$dir/$f")" && left+=" $f=$(cat "$dir/$f")"
  done
  rm -f "$dir"/*.pid
  if [ -n "$left" ]; then
    echo "rabbitmq.sh: still running after stop:$left" >&2
    return 1
  fi
}

# The cluster: nodes seedbenchq1..3@localhost, AMQP ports CLUSTER_PORT+1..3,
# distribution ports CLUSTER_DIST+1..3, one epmd (the first node's) on
# CLUSTER_EPMD, one Erlang cookie; nodes 2 and 3 join node 1.
CLUSTER_PORT="${SEEDBENCH_CLUSTER_PORT:-5700}"
CLUSTER_DIST="${SEEDBENCH_CLUSTER_DIST:-25700}"
CLUSTER_EPMD="${SEEDBENCH_CLUSTER_EPMD:-14400}"

cluster_env() { # I: the environment of node I's commands
  export SEEDBENCH_NODE="seedbenchq$1" AMQP_PORT=$((CLUSTER_PORT + $1)) DIST_PORT=$((CLUSTER_DIST + $1)) EPMD_PORT="$CLUSTER_EPMD"
}

start_cluster() {
  local dir="$1" i pids=() rc=0
  mkdir -p "$dir"
  local cookie
  cookie="$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  for i in 1 2 3; do
    mkdir -p "$dir/q$i"
    printf '%s' "$cookie" >"$dir/q$i/.erlang.cookie"
    chmod 400 "$dir/q$i/.erlang.cookie"
  done
  # Node 1 first: its epmd is the cluster's; then 2 and 3 beside each other.
  (cluster_env 1; start "$dir/q1") >"$dir/q1.out" || rc=1
  if [ $rc -eq 0 ]; then
    for i in 2 3; do
      (cluster_env $i; start "$dir/q$i") >"$dir/q$i.out" &
      pids+=($!)
    done
    for i in "${pids[@]}"; do wait "$i" || rc=1; done
  fi
  if [ $rc -eq 0 ]; then
    for i in 2 3; do
      (cluster_env $i; env_for "$dir/q$i"
        "$RABBIT_BIN/rabbitmqctl" -q -t 60 stop_app >/dev/null &&
        "$RABBIT_BIN/rabbitmqctl" -q -t 60 join_cluster seedbenchq1@localhost >/dev/null &&
        "$RABBIT_BIN/rabbitmqctl" -q -t 60 start_app >/dev/null) || { echo "rabbitmq.sh: node $i did not join the cluster" >&2; rc=1; }
    done
  fi
  if [ $rc -ne 0 ]; then
    stop_cluster "$dir"
    return 1
  fi
  sed -n 's/^AMQP_URL=//p' "$dir/q1.out" | sed 's/^/AMQP_URL=/'
  echo "BEAM_PIDS=$(cat "$dir"/q1/beam.pid),$(cat "$dir"/q2/beam.pid),$(cat "$dir"/q3/beam.pid)"
}

stop_cluster() {
  local dir="$1" i rc=0
  for i in 3 2 1; do
    (cluster_env $i; stop "$dir/q$i") || rc=1
  done
  return $rc
}

case "${1:-}" in
  install) install ;;
  start) [ -n "${2:-}" ] || { echo "usage: $0 start DIR" >&2; exit 2; }; start "$2" ;;
  stop) [ -n "${2:-}" ] || { echo "usage: $0 stop DIR" >&2; exit 2; }; stop "$2" ;;
  start-cluster) [ -n "${2:-}" ] || { echo "usage: $0 start-cluster DIR" >&2; exit 2; }; start_cluster "$2" ;;
  stop-cluster) [ -n "${2:-}" ] || { echo "usage: $0 stop-cluster DIR" >&2; exit 2; }; stop_cluster "$2" ;;
  *) echo "usage: $0 install | start DIR | stop DIR | start-cluster DIR | stop-cluster DIR" >&2; exit 2 ;;
esac
