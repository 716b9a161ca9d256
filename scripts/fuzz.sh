#!/usr/bin/env bash
# The fuzz campaign (docs/fuzzing.md): runs every Go fuzz target of the root
# module (every `func FuzzX` in a *_test.go) for FUZZTIME (default 1m),
# FUZZJOBS targets at a time (default 3), each with one fuzz worker
# (-parallel=1) under `nice -n 19`, and prints one line per target: status,
# executions, new interesting inputs. A crash leaves its input in the
# package's testdata/fuzz/<Target>/ (go test's own behaviour) and the run
# exits non-zero. An optional argument is a regexp on target names.
#
#   FUZZTIME=10m scripts/fuzz.sh            # the campaign of docs/fuzzing.md
#   FUZZTIME=30s scripts/fuzz.sh 'Frame$'   # some targets, briefly
#
# Logs go to FUZZOUT (default bin/fuzz/), one <pkg>.<Target>.log each.
set -uo pipefail
cd "$(dirname "$0")/.."
FUZZTIME="${FUZZTIME:-1m}"
FUZZJOBS="${FUZZJOBS:-3}"
FUZZOUT="${FUZZOUT:-bin/fuzz}"
filter="${1:-.}"
mkdir -p "$FUZZOUT"

# "dir Target" for every fuzz target outside the nested modules.
targets() {
	grep -rn '^func Fuzz' --include='*_test.go' . |
		grep -v -e '^./bench/' -e '^./tools/' -e '^./dashboard/browsertest/' |
		sed -E 's|^\./(.*)/[^/]*_test\.go:[0-9]+:func (Fuzz[A-Za-z0-9_]*)\(.*|\1 \2|' |
		sort | awk -v f="$filter" '$2 ~ f'
}

# one runs a target and writes its log; the summary is built afterwards.
one() {
	local dir="$1" name="$2" log
	log="$FUZZOUT/$(echo "$dir" | tr / .).$name.log"
	echo "$(date -u +%H:%M:%S) start $dir $name" >&2
	nice -n 19 go test -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" \
		-parallel 1 "./$dir" >"$log" 2>&1
	echo "rc=$?" >>"$log"
	echo "$(date -u +%H:%M:%S) done  $dir $name ($(tail -1 "$log"))" >&2
}
export -f one
export FUZZTIME FUZZOUT

targets | xargs -P "$FUZZJOBS" -L 1 bash -c 'one "$0" "$1"'

# Summary: the last progress line of each log holds the totals.
status=0
printf '%-52s %-6s %8s %12s %6s\n' target result elapsed execs new
while read -r dir name; do
	log="$FUZZOUT/$(echo "$dir" | tr / .).$name.log"
	rc=$(sed -n 's/^rc=//p' "$log")
	last=$(grep -E '^fuzz: elapsed: .*execs: ' "$log" | tail -1)
	elapsed=$(echo "$last" | sed -nE 's/^fuzz: elapsed: ([^,]*),.*/\1/p')
	execs=$(echo "$last" | sed -nE 's/.*execs: ([0-9]+).*/\1/p')
	newi=$(echo "$last" | sed -nE 's/.*new interesting: ([0-9]+).*/\1/p')
	res=ok
	if [ "$rc" != 0 ]; then res=FAIL; status=1; fi
	printf '%-52s %-6s %8s %12s %6s\n' "$dir.$name" "$res" "${elapsed:-?}" "${execs:-?}" "${newi:-?}"
done < <(targets)
exit $status
