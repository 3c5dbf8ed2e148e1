#!/usr/bin/env bash
# The prerequisites of `deno task demo` and `deno task test` (both tasks run this first):
#   - Mesa's Vulkan driver >= 23 (lavapipe, for Dawn and for the built-in backend's Vulkan path),
#     the newest the Debian release's backports offer;
#   - the Vulkan loader (libvulkan1);
#   - Debian's dataset-fashion-mnist (the demo's data).
# With --dev also Debian's PyTorch/torchvision, the fixture and benchmark reference (developer
# tooling, never a runtime dependency).
# Quiet and fast (dpkg and apt-cache queries only) when everything is there. As root it installs
# what is missing with apt, and upgrades Mesa when apt knows a newer one in the backports; otherwise
# it exits 2 printing the exact command to run (for a newer Mesa only a note: the older one works).
set -euo pipefail

dev=0
for arg in "$@"; do
  case "$arg" in
    --dev) dev=1 ;;
    -h | --help)
      sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "prereq: unknown option '$arg' (allowed: --dev, --help)" >&2
      exit 2
      ;;
  esac
done

say() { echo "prereq: $*" >&2; }

installed_version() { { dpkg-query -W -f='${Status} ${Version}\n' "$1" 2>/dev/null || true; } | awk '$3 == "installed" { print $4 }'; }
major() { echo "${1%%.*}" | sed 's/^[0-9]*://'; }

codename=""
[ -r /etc/os-release ] && codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")

# The newest version of package $1 that apt's lists hold in suite $2 (empty: none known).
newest_in() {
  local newest="" v
  for v in $(apt-cache madison "$1" 2>/dev/null | awk -F'|' -v s=" $2/" 'index($3, s) { gsub(/ /, "", $2); print $2 }'); do
    if [ -z "$newest" ] || dpkg --compare-versions "$v" gt "$newest"; then newest=$v; fi
  done
  echo "$newest"
}

has_backports() { grep -rqs "$codename-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; }

# Adds the release's backports suite to the existing Debian entry (deb822 or one-line format),
# taking the mirror from that entry.
add_backports() {
  local deb822=/etc/apt/sources.list.d/debian.sources
  if [ -f "$deb822" ] && grep -qE "^Suites:.*\\b$codename-updates\\b" "$deb822"; then
    sed -i -E "s/^(Suites:.*\\b$codename-updates\\b.*)$/\\1 $codename-backports/" "$deb822"
  elif [ -f /etc/apt/sources.list ] && grep -qE "^deb [^ ]+ $codename main" /etc/apt/sources.list; then
    grep -E "^deb [^ ]+ $codename main" /etc/apt/sources.list | head -n1 |
      sed -E "s/ $codename main/ $codename-backports main/" >>/etc/apt/sources.list
  else
    return 1
  fi
}

# Runs an apt step quietly; on failure prints its output and what failed.
apt_quiet() {
  local log
  log=$(mktemp)
  DEBIAN_FRONTEND=noninteractive $1 >"$log" 2>&1 || {
    cat "$log" >&2
    rm -f "$log"
    say "'$1' failed (its output is above)"
    return 1
  }
  rm -f "$log"
}

vulkan=() other=()
vk=$(installed_version mesa-vulkan-drivers)
if [ -z "$vk" ] || [ "$(major "$vk")" -lt 23 ]; then
  vulkan+=(mesa-vulkan-drivers)
elif [ -n "$codename" ] && command -v apt-cache >/dev/null 2>&1; then
  # A Mesa >= 23 runs, but the release's own (trixie: 25.0) may be older than its backports'
  # (trixie-backports: 26.1; Mesa >= 25.1 scalarises uniform loads, much faster compute on CPUs).
  # Root adds the backports suite once when the sources lack it (a fresh trixie whose Mesa came
  # with npm's dependencies has only the release's own), so apt can say what it offers.
  # Only on the releases this is tested on; with no Debian entry to extend, the Mesa there stays.
  if [ "$(id -u)" = 0 ] && [[ "$codename" =~ ^(bookworm|trixie)$ ]] && ! has_backports && add_backports; then
    say "added $codename-backports to apt's sources, to look for a newer Mesa"
    apt_quiet "apt-get update -q" || exit 1
  fi
  newer=$(newest_in mesa-vulkan-drivers "$codename-backports")
  if [ -n "$newer" ] && dpkg --compare-versions "$newer" gt "$vk"; then
    if [ "$(id -u)" = 0 ]; then
      vulkan+=(mesa-vulkan-drivers)
    else
      say "mesa-vulkan-drivers $vk is installed; $codename-backports has $newer (faster compute on CPUs): sudo apt-get install -t $codename-backports mesa-vulkan-drivers"
    fi
  fi
fi
[ -n "$(installed_version libvulkan1)" ] || vulkan+=(libvulkan1)
[ -n "$(installed_version dataset-fashion-mnist)" ] || other+=(dataset-fashion-mnist)
if [ "$dev" = 1 ]; then
  for p in python3-torch python3-torchvision libopenblas0-pthread; do
    [ -n "$(installed_version "$p")" ] || other+=("$p")
  done
fi
need=("${vulkan[@]}" "${other[@]}")
[ ${#need[@]} -eq 0 ] && exit 0

if [ ! -r /etc/os-release ] || ! command -v apt-get >/dev/null 2>&1; then
  say "missing ${need[*]}, and this is not a Debian system with apt: install Mesa's Vulkan driver >= 23 and the Vulkan loader with your package manager, and the Fashion-MNIST IDX files into /usr/share/datasets/fashion-mnist"
  exit 2
fi
. /etc/os-release
case "$codename" in
  bookworm | trixie) ;;
  *)
    say "missing ${need[*]}; tested on Debian 12 (bookworm) and 13 (trixie), this is '${PRETTY_NAME:-unknown}': install them with your package manager (Mesa's Vulkan driver must be >= 23)"
    exit 2
    ;;
esac
backports="$codename-backports"

# apt's words for the install: Mesa and its dependencies from backports (newer than the release's
# own; bookworm's 22.3 is too old for Dawn), everything else from the release itself.
steps=()
[ ${#vulkan[@]} -eq 0 ] || steps+=("apt-get install -y -q --no-install-recommends -t $backports ${vulkan[*]}")
[ ${#other[@]} -eq 0 ] || steps+=("apt-get install -y -q --no-install-recommends ${other[*]}")

if [ "$(id -u)" != 0 ]; then
  sources_note=""
  has_backports ||
    sources_note=" after adding '$backports' to the Suites of your Debian entry in /etc/apt/sources.list.d/debian.sources (or a 'deb ... $backports main' line to /etc/apt/sources.list),"
  say "missing ${need[*]}. Run,${sources_note} then retry:"
  line="sudo apt-get update"
  for step in "${steps[@]}"; do line+=" && sudo $step"; done
  echo "  $line" >&2
  exit 2
fi

if [ ${#vulkan[@]} -gt 0 ] && ! has_backports && ! add_backports; then
  say "cannot find the Debian '$codename' entry in /etc/apt/sources.list(.d) to add '$backports' to; add it, then retry"
  exit 2
fi

say "installing ${need[*]} (Debian $codename, Mesa from $backports)"
for step in "apt-get update -q" "${steps[@]}"; do apt_quiet "$step" || exit 1; done
vk=$(installed_version mesa-vulkan-drivers)
if [ -z "$vk" ] || [ "$(major "$vk")" -lt 23 ]; then
  say "mesa-vulkan-drivers is ${vk:-absent} after the install; Dawn needs >= 23"
  exit 1
fi
say "done (mesa-vulkan-drivers $vk)"
