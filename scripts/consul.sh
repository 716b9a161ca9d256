#!/usr/bin/env bash
# Builds bin/consul from the version pinned in tools/go.mod, once: the first
# build takes about five minutes on two cores, later runs reuse the binary
# unless tools/go.mod changed. Prints the binary's path.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$PWD/bin/consul"
if [ ! -x "$bin" ] || [ tools/go.mod -nt "$bin" ] || [ tools/go.sum -nt "$bin" ]; then
  echo "consul: building $(grep 'hashicorp/consul ' tools/go.mod | awk '{print $2}') from tools/go.mod (first time: ~5 minutes)" >&2
  mkdir -p bin
  (cd tools && go build -buildvcs=false -o "$bin.tmp" github.com/hashicorp/consul)
  mv "$bin.tmp" "$bin"
fi
echo "$bin"
