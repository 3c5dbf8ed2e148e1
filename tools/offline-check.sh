#!/usr/bin/env bash
# Runs bench/offline-gpu.sh here the way the device machine would: in a fresh copy of the
# working tree (tracked and unignored files, plus .carry/ and nothing else ignored), with no
# network (a new network namespace: loopback only), the system Deno hidden (a mount namespace
# binds /dev/null over it) and Deno's global cache hidden, so only the carried files can serve.
# Needs root (unshare). Usage: tools/offline-check.sh OUTDIR [offline-gpu.sh options...]
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || {
  echo "offline-check: usage: tools/offline-check.sh OUTDIR [--quick]" >&2
  exit 2
}
[ -d .carry ] || {
  echo "offline-check: no .carry: run tools/carry.sh first" >&2
  exit 2
}
mkdir -p "$1"
out=$(cd "$1" && pwd)
shift

copy=$(mktemp -d)
trap 'rm -rf "$copy"' EXIT
# Tracked files deleted in the work tree are absent there too.
git ls-files -z --cached --others --exclude-standard |
  while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
  xargs -0 cp --parents -t "$copy"
cp -r .carry "$copy/"

system_deno=$(readlink -f "$(command -v deno)")
deno_cache=${DENO_DIR:-$HOME/.cache/deno}
# shellcheck disable=SC2016 # expanded by the inner shell
unshare --net --mount -- bash -c '
  set -e
  mount --bind /dev/null "$1"
  [ -d "$2" ] && mount -t tmpfs none "$2"
  ! getent hosts registry.npmjs.org >/dev/null || { echo "network still reachable" >&2; exit 1; }
  copy=$3 out=$4
  shift 4
  exec env -i PATH=/usr/bin:/bin TERM=dumb bash "$copy/bench/offline-gpu.sh" "$@" "$out"
' offline-check "$system_deno" "$deno_cache" "$copy" "$out" "$@"
