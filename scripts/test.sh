#!/usr/bin/env bash
# Runs every test, installing what they need first: Consul, built once from
# tools/go.mod into bin/consul (about five minutes the first time), and
# Debian's chromium (scripts/chromium.sh, about a minute). Then go vet and
# the race-enabled tests of every package, of the root module, of bench/
# and of dashboard/browsertest/, modules of their own (so that the
# library's users do not inherit their dependencies). Extra arguments go
# to go test (e.g. scripts/test.sh -run Supervisor -count=5).
set -euo pipefail
cd "$(dirname "$0")/.."
export SWITCHBOARD_CONSUL="$(scripts/consul.sh)"
# Debian's chromium for the dashboard's browser test (about a minute to
# install the first time); empty if it cannot be installed, and the test
# skips saying so.
export SWITCHBOARD_CHROMIUM="$(scripts/chromium.sh)"
modules=(. bench dashboard/browsertest)
for m in "${modules[@]}"; do
  echo "== go vet ./... (in $m)"
  go -C "$m" vet ./...
done
for m in "${modules[@]}"; do
  echo "== go test -race ./... (in $m)"
  go -C "$m" test -race "$@" ./...
done
