#!/usr/bin/env bash
# Prepares .carry/ (gitignored): everything bench/offline-gpu.sh needs on a fresh x86-64 Linux
# machine with no network, packed to fit the device tool's 64 MiB carry limit:
#   deno.gz                  this machine's Deno binary (must be the pinned version), gzip
#                            because gzip is Essential on Debian and xz is not;
#   node_modules.tar.gz      the project's npm packages as `deno install` lays them out, minus
#                            other platforms' prebuilt binaries (Dawn for macOS/Windows/arm64,
#                            sharp/libvips for musl: their folders stay, so Deno sees every
#                            locked package installed and fetches nothing), and of tfjs only
#                            the bundles Deno loads;
#   npm_registry.tar.gz      Deno's cached registry metadata of those packages: with it, Deno
#                            asks the registry nothing (without it, it tries and falls back);
#   vulkan/                  the Vulkan loader (Debian's libvulkan1, unpacked with dpkg-deb -x);
#   libstdcxx/               Debian's libstdc++6, used only where the machine has none (Dawn
#                            links it);
#   MANIFEST                 versions, sizes and sha256 sums (deno.lock's too).
# Usage: tools/carry.sh   (from anywhere; needs deno, apt-get, dpkg-deb; network for apt-get
# download and, on a cold cache, for deno install)
set -euo pipefail
cd "$(dirname "$0")/.."

readonly DENO_VERSION=2.9.6
readonly LIMIT_BYTES=$((64 * 1024 * 1024))
readonly out=.carry

fail() {
  echo "carry: $*" >&2
  exit 2
}

[ "$(uname -m)" = x86_64 ] || fail "this machine is $(uname -m); the device machines are x86_64"
deno_bin=$(readlink -f "$(command -v deno)") || fail "no deno on PATH"
have=$("$deno_bin" --version | awk 'NR == 1 { print $2 }')
[ "$have" = "$DENO_VERSION" ] || fail "deno on PATH is $have, the project pins $DENO_VERSION"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rm -rf "$out"
mkdir -p "$out"

gzip -9 -c "$deno_bin" >"$out/deno.gz"

# The lockfile decides the versions; --frozen refuses to change it.
deno install --frozen >/dev/null
tfjs='node_modules/.deno/@tensorflow+*/node_modules/@tensorflow/*/dist'
tar -cf "$tmp/node_modules.tar" \
  --exclude='node_modules/.deno/webgpu@*/node_modules/webgpu/dist/darwin-*' \
  --exclude='node_modules/.deno/webgpu@*/node_modules/webgpu/dist/win32-*' \
  --exclude='node_modules/.deno/webgpu@*/node_modules/webgpu/dist/linux-arm64' \
  --exclude='node_modules/.deno/@img+sharp-*linuxmusl-x64@*/node_modules/@img/*/lib' \
  --exclude="$tfjs" \
  node_modules
# Of the tfjs packages (bench/peers.ts), only the CommonJS bundle Deno loads (package.json
# "main"): the rest of dist/ (ES modules, browser bundles, tests, source maps) is 70 MB.
# find, not a glob: a glob would also reach each bundle through the packages' links to each other.
find node_modules/.deno -type f -path "$tfjs/tf-*.node.js" -print0 |
  tar -rf "$tmp/node_modules.tar" --null -T -
gzip -9 -c "$tmp/node_modules.tar" >"$out/node_modules.tar.gz"

npm_cache=$(NO_COLOR=1 deno info | sed -n 's/^npm modules cache: //p')/registry.npmjs.org
# Deno keeps (and asks for) the metadata of the packages deno.json names, not of their
# dependencies: carry what the cache holds for any package in node_modules.
metadata=()
for dir in node_modules/.deno/*@*/; do
  name=$(basename "$dir")
  name=${name%@*}
  file=${name//+//}/registry.json
  [ -f "$npm_cache/$file" ] && metadata+=("$file")
done
[ ${#metadata[@]} -gt 0 ] || fail "Deno's npm cache ($npm_cache) holds no registry metadata"
tar -czf "$out/npm_registry.tar.gz" -C "$npm_cache" "${metadata[@]}"

(cd "$tmp" && apt-get download libvulkan1 libstdc++6 >/dev/null 2>&1) ||
  fail "apt-get download libvulkan1 libstdc++6 failed (needs the Debian package mirror)"
dpkg-deb -x "$tmp"/libvulkan1_*.deb "$tmp/vulkan"
dpkg-deb -x "$tmp"/libstdc++6_*.deb "$tmp/libstdcxx"
# Only each library under its soname, as a plain file: a carried tree may not keep links.
mkdir -p "$out/vulkan" "$out/libstdcxx"
cp -L "$(find "$tmp/vulkan" -name libvulkan.so.1)" "$out/vulkan/"
cp -L "$(find "$tmp/libstdcxx" -name libstdc++.so.6)" "$out/libstdcxx/"

{
  echo "prepared $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(. /etc/os-release && echo "$PRETTY_NAME")"
  echo "deno $DENO_VERSION"
  # offline-gpu.sh refuses a carry whose packages no longer match the lockfile.
  echo "deno.lock sha256 $(sha256sum deno.lock | cut -d' ' -f1)"
  for deb in "$tmp"/*.deb; do dpkg-deb -f "$deb" Package Version | paste -sd' '; done
  (cd "$out" && find . -type f ! -name MANIFEST -printf '%s %p\n' | sort -k2)
  (cd "$out" && find . -type f ! -name MANIFEST -print0 | sort -z | xargs -0 sha256sum)
} >"$out/MANIFEST"

total=$(du -sb "$out" | cut -f1)
echo "carry: $out holds $((total / 1024 / 1024)) MiB ($total bytes)"
[ "$total" -le "$LIMIT_BYTES" ] || fail "$out is over the 64 MiB carry limit"
