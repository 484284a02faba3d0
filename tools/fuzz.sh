#!/usr/bin/env bash
# tools/fuzz.sh SECONDS [PACKAGE ...]
#
# Runs every Go fuzz target of the module for SECONDS each, one target per `go test -fuzz`
# invocation (Go fuzzes one target at a time), and stops at the first failure, printing the
# file the crashing input was written to and the command that replays it. Packages default
# to those with a `func Fuzz…(f *testing.F)` in a _test.go file; the target names come from
# `go test -list` on them. FUZZ_PARALLEL sets the fuzzing workers (default: GOMAXPROCS).
#   make fuzz        120 s a target
#   make fuzz-short   20 s a target (not yet part of make test: see the Makefile)
set -euo pipefail

secs=${1:?usage: tools/fuzz.sh SECONDS [PACKAGE ...] (e.g. tools/fuzz.sh 20)}
case $secs in *[!0-9]* | "") echo "fuzz.sh: SECONDS must be a whole number, not \"$secs\"" >&2; exit 2 ;; esac
shift
cd "$(dirname "$0")/.."
GO=${GO:-go}

if [ $# -gt 0 ]; then
	pkgs=("$@")
else
	mapfile -t pkgs < <(grep -rlE --include='*_test.go' --exclude-dir=out --exclude-dir=.git \
		'^func Fuzz[A-Za-z0-9_]*\(f \*testing\.F\)' . | xargs -r -n1 dirname | sort -u)
fi
if [ ${#pkgs[@]} -eq 0 ]; then
	echo "fuzz.sh: no fuzz targets found" >&2
	exit 1
fi

parallel=()
[ -n "${FUZZ_PARALLEL:-}" ] && parallel=(-parallel="$FUZZ_PARALLEL")
log=$(mktemp)
trap 'rm -f "$log"' EXIT
start=$SECONDS
n=0
for pkg in "${pkgs[@]}"; do
	if ! listed=$($GO test -list '^Fuzz' "$pkg" 2>&1); then
		echo "$listed"
		echo "fuzz.sh: go test -list failed in $pkg" >&2
		exit 1
	fi
	names=$(grep -E '^Fuzz' <<<"$listed" || true)
	for name in $names; do
		n=$((n + 1))
		t0=$SECONDS
		if ! $GO test -run='^$' -fuzz="^${name}\$" -fuzztime="${secs}s" "${parallel[@]}" "$pkg" >"$log" 2>&1; then
			cat "$log"
			echo
			echo "fuzz.sh: $pkg $name FAILED after $((SECONDS - t0)) s"
			crasher=$(grep -oE 'Failing input written to [^ ]+' "$log" | sed 's/Failing input written to //' || true)
			if [ -n "$crasher" ]; then
				echo "fuzz.sh: crasher written to $pkg/$crasher"
				echo "fuzz.sh: replay with: $GO test -run='^${name}/$(basename "$crasher")\$' $pkg"
			fi
			exit 1
		fi
		echo "fuzz.sh: $pkg $name ok ($(grep -oE 'execs: [0-9]+' "$log" | tail -1 | sed 's/execs: //') execs, $((SECONDS - t0)) s)"
	done
done
echo "fuzz.sh: $n targets, ${secs} s each, all ok in $((SECONDS - start)) s"
