#!/usr/bin/env bash
# Runs every test, installing what they need first: Consul, built once from
# tools/go.mod into bin/consul (about five minutes the first time). Then
# go vet and the race-enabled tests of every package. Extra arguments go to
# go test (e.g. scripts/test.sh -run Supervisor -count=5).
set -euo pipefail
cd "$(dirname "$0")/.."
export SWITCHBOARD_CONSUL="$(scripts/consul.sh)"
echo "== go vet ./..."
go vet ./...
echo "== go test -race ./..."
go test -race "$@" ./...
