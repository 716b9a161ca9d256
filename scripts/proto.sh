#!/usr/bin/env bash
# Regenerates the Go code of every .proto file in the repository with pinned
# tools: protoc-gen-go at the version in tools/go.mod, and Debian's protoc
# (installed with apt-get if missing; libprotoc 3.21 on bookworm). Files are
# named by their path from the repository root, so their names in the
# protobuf registry cannot collide with other modules'. Messages that
# carry a process import actor/pid.proto (actor.PID, Switchboard's own).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v protoc >/dev/null; then
  echo "proto: installing protoc from Debian's protobuf-compiler" >&2
  apt-get update -qq && apt-get install -y -qq protobuf-compiler >/dev/null
fi
mkdir -p bin
(cd tools && go build -o ../bin/protoc-gen-go google.golang.org/protobuf/cmd/protoc-gen-go)

for f in $(find . -name '*.proto' -not -path './bin/*' -not -path './.git/*' | sort); do
  protoc --plugin=protoc-gen-go=bin/protoc-gen-go -I . -I /usr/include \
    --go_out=. --go_opt=paths=source_relative "${f#./}"
done
