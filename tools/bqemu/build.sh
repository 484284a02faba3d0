#!/usr/bin/env bash
# Prints the path of a goccy/bigquery-emulator v0.6.6 binary, building it first if the cache
# directory does not have it. The cold build is cgo (ZetaSQL through go-zetasqlite) and takes
# ~30-40 minutes and ~7 GiB on a 2-core machine, so the binary is kept in
# ${BEAMLINE_CACHE:-~/.cache/beamline} and reused by later runs and CI on the same machine.
set -euo pipefail
cd "$(dirname "$0")"
cache="${BEAMLINE_CACHE:-$HOME/.cache/beamline}"
bin="$cache/bigquery-emulator-v0.6.6"
mkdir -p "$cache"
# One build at a time: a second caller (another make, a test) waits for the first one's binary.
exec 9>"$cache/.bigquery-emulator.lock"
flock 9
if [ ! -x "$bin" ]; then
  if ! command -v clang >/dev/null; then
    echo "bqemu: installing clang (Debian) for the cgo build" >&2
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang >&2
  fi
  echo "bqemu: building $bin (cold: ~30-40 min)" >&2
  start=$(date +%s)
  CGO_ENABLED=1 CC=clang CXX=clang++ GOFLAGS=-mod=mod GOWORK=off \
    go build -trimpath -o "$bin.tmp" github.com/goccy/bigquery-emulator/cmd/bigquery-emulator
  mv "$bin.tmp" "$bin"
  echo "bqemu: built in $(( $(date +%s) - start ))s" >&2
fi
echo "$bin"
