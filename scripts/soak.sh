#!/usr/bin/env bash
# The soak (docs/soak.md): builds Consul into bin/consul if missing (as
# scripts/test.sh does), builds the driver and runs it: a real Consul agent
# and five OS-process nodes under a steady load and a seeded fault schedule
# for SOAK_DURATION (default 5m); SOAK_SEED replays a schedule. Exits
# non-zero if the checked history has a violation.
set -euo pipefail
cd "$(dirname "$0")/.."
export SWITCHBOARD_CONSUL="${SWITCHBOARD_CONSUL:-$(scripts/consul.sh)}"
mkdir -p bin
go build -o bin/soak ./internal/soak/cmd/soak
exec bin/soak
