#!/usr/bin/env bash
# Everything `make run`, `make test` and the benchmarks need beyond Go, installed once and
# reused: a warm run checks in well under a second and installs nothing.
#
#   tools/setup.sh run     apt's Translation-en lists (the Debian corpus of the topic model)
#   tools/setup.sh test    the above, Debian's goaccess (the access-log test's peer), and the
#                          BigQuery emulator (tools/bqemu/build.sh: cold ~30-40 min, cached)
#
# Installs come from Debian (apt-get), the Go module proxy and, for the services under tools/,
# Maven Central and PyPI. Caches live in ${BEAMLINE_CACHE:-~/.cache/beamline}, each entry keyed
# by the pinned versions that made it, so changing a pin rebuilds just that entry.
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-test}"
case "$what" in run | test) ;; *)
  echo "setup: usage: tools/setup.sh run|test" >&2
  exit 2
  ;;
esac

# Debian packages a target needs: one apt-get update, and only when something is missing.
debs=()
[ "$what" = test ] && debs+=(goaccess)
missing=()
for d in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$d" 2>/dev/null | grep -q 'ok installed' || missing+=("$d")
done
# Debian images skip the Translation-en lists (Acquire::Languages "none"); the topic corpus
# joins them with the Packages lists, so an update here asks for them.
need_en=
ls /var/lib/apt/lists/*_i18n_Translation-en* >/dev/null 2>&1 || need_en=1
if [ ${#missing[@]} -gt 0 ] || [ -n "$need_en" ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup: need root to install ${missing[*]:-} and apt's Translation-en lists (apt-get); run as root once" >&2
    exit 1
  fi
  echo "setup: apt-get update (with the Translation-en lists)" >&2
  apt-get update -qq -o Acquire::Languages=en >&2
  if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]} (Debian)" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
fi

if [ "$what" = test ]; then
  tools/bqemu/build.sh >/dev/null
fi
