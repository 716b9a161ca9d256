#!/usr/bin/env bash
# Runs every test, installing what they need first: Consul, built once from
# tools/go.mod into bin/consul (about five minutes the first time). Then
# go vet and the race-enabled tests of every package, of the root module and
# of bench/, a module of its own (bench/go.mod, so that the library's users
# do not inherit its dependencies). Extra arguments go to go test (e.g.
# scripts/test.sh -run Supervisor -count=5).
set -euo pipefail
cd "$(dirname "$0")/.."
export SWITCHBOARD_CONSUL="$(scripts/consul.sh)"
modules=(. bench)
for m in "${modules[@]}"; do
  echo "== go vet ./... (in $m)"
  go -C "$m" vet ./...
done
for m in "${modules[@]}"; do
  echo "== go test -race ./... (in $m)"
  go -C "$m" test -race "$@" ./...
done
