#!/usr/bin/env bash
# One-shot accelerator run (docs/cli.md, "Offline GPU run"): on a fresh x86-64 Linux machine
# with a GPU driver and no network, from the files tools/carry.sh put in .carry/, runs every
# benchmark (`deno task bench NAME --json`; hardware sizes on a hardware adapter; PyTorch, on
# CUDA where it has it, as the reference where the machine has a Python with torch) and the GPU
# test subset (kernels and engine ops on both backends, a missing backend failing), within
# AKD_GPU_BUDGET_S seconds (default 450), and writes into OUTDIR:
#   bench.json    the records of every benchmark that finished (one JSON array)
#   bench-NAME.json, bench-NAME.err   each benchmark's own output
#   tests.xml     the tests' JUnit report
#   log.txt       everything, with the machine's facts (GPU, driver, Vulkan ICDs, adapters)
#   summary.txt   one line per step: exit status and seconds; the tests' pass count
# Usage: bench/offline-gpu.sh [--quick] OUTDIR   (exit 0 when every step passed)
# --quick: the benchmarks' quick cases and the kernel tests on the built-in backend only, for
# checking the script itself on a CPU adapter (llvmpipe) in a few minutes.
# Nothing is fetched: HOME and DENO_DIR are fresh temp folders, DENO_DIR holding only the
# carried npm registry metadata, with which Deno finds every package in node_modules without
# asking the registry (the log would show a "Download" line if it did).
set -uo pipefail

quick=0
args=()
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    -h | --help)
      sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    -*)
      echo "offline-gpu: unknown option '$arg' (allowed: --quick, --help)" >&2
      exit 2
      ;;
    *) args+=("$arg") ;;
  esac
done
if [ ${#args[@]} -ne 1 ]; then
  echo "offline-gpu: usage: bench/offline-gpu.sh [--quick] OUTDIR" >&2
  exit 2
fi
budget=${AKD_GPU_BUDGET_S:-450}
if ! [[ "$budget" =~ ^[0-9]+$ ]] || [ "$budget" -lt 60 ]; then
  echo "offline-gpu: AKD_GPU_BUDGET_S must be an integer >= 60, got '$budget'" >&2
  exit 2
fi
start=$SECONDS
deadline=$((start + budget))

cd "$(dirname "$0")/.."
repo=$PWD
carry=$repo/.carry
for f in MANIFEST deno.gz node_modules.tar.gz npm_registry.tar.gz vulkan/libvulkan.so.1 \
  libstdcxx/libstdc++.so.6; do
  if [ ! -s "$carry/$f" ]; then
    echo "offline-gpu: $carry/$f is missing: run tools/carry.sh and carry .carry" >&2
    exit 2
  fi
done
lock=$(sha256sum deno.lock | cut -d' ' -f1)
if ! grep -qx "deno.lock sha256 $lock" "$carry/MANIFEST" 2>/dev/null; then
  echo "offline-gpu: $carry was packed for another deno.lock: run tools/carry.sh again" >&2
  exit 2
fi
mkdir -p "${args[0]}" || exit 2
out=$(cd "${args[0]}" && pwd)
log=$out/log.txt
summary=$out/summary.txt
: >"$log"
: >"$summary"
exec > >(tee -a "$log") 2>&1
# fd 3: the log, also from inside a step whose output goes to a file.
exec 3>&1

say() { echo "== $(date -u +%H:%M:%S) [$((SECONDS - start)) s] $*" >&3; }

# Runs "$@" with at most $1 seconds, recording its status and time in summary.txt.
step() {
  local name=$1 limit=$2 t0=$SECONDS rc
  shift 2
  if [ "$limit" -lt 5 ]; then
    say "$name: skipped, the time budget is spent"
    echo "$name skipped (budget spent)" >>"$summary"
    return 1
  fi
  say "$name (limit $limit s): $*"
  timeout --kill-after=10 "$limit" "$@"
  rc=$?
  [ $rc -eq 124 ] && say "$name: stopped at its time limit"
  echo "$name rc=$rc $((SECONDS - t0)) s" >>"$summary"
  return $rc
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bin" "$tmp/home" "$tmp/deno_dir" "$tmp/xdg_runtime"
gzip -dc "$carry/deno.gz" >"$tmp/bin/deno" && chmod +x "$tmp/bin/deno" || exit 1
# The working tree arrives without node_modules (ignored); a second run reuses the first's.
if [ ! -d node_modules ]; then
  tar -xzf "$carry/node_modules.tar.gz" || exit 1
fi
mkdir -p "$tmp/deno_dir/npm/registry.npmjs.org"
tar -xzf "$carry/npm_registry.tar.gz" -C "$tmp/deno_dir/npm/registry.npmjs.org" || exit 1

export PATH="$tmp/bin:$PATH"
export HOME="$tmp/home" DENO_DIR="$tmp/deno_dir" XDG_CACHE_HOME="$tmp/home/.cache"
export XDG_RUNTIME_DIR="$tmp/xdg_runtime" DENO_NO_UPDATE_CHECK=1 NO_COLOR=1
unset NPM_CONFIG_REGISTRY DENO_AUTH_TOKENS HTTP_PROXY HTTPS_PROXY http_proxy https_proxy
ld=$carry/vulkan
# Debian's libstdc++ only where the machine has none: a newer system one must win.
ldconfig -p 2>/dev/null | grep -q 'libstdc++\.so\.6 ' || ld=$ld:$carry/libstdcxx
export LD_LIBRARY_PATH="$ld${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

say "machine"
uname -a
grep PRETTY_NAME /etc/os-release 2>/dev/null
nproc
free -g | head -2
deno --version
if command -v nvidia-smi >/dev/null; then
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv
else
  echo "no nvidia-smi"
fi
echo "Vulkan ICDs:"
icd_dirs=(/usr/share/vulkan/icd.d /etc/vulkan/icd.d /usr/local/share/vulkan/icd.d)
ls -l "${icd_dirs[@]}" 2>&1
# A container given the NVIDIA driver's libraries but not its ICD file: name the driver's
# Vulkan library (libGLX_nvidia) to the loader ourselves.
if ! ls "${icd_dirs[@]}" 2>/dev/null | grep -qi nvidia &&
  ldconfig -p 2>/dev/null | grep -q 'libGLX_nvidia\.so\.0 '; then
  mkdir -p "$tmp/icd"
  printf '{"file_format_version": "1.0.0", "ICD": {"library_path": "%s", "api_version": "%s"}}\n' \
    libGLX_nvidia.so.0 1.3.0 >"$tmp/icd/nvidia_icd.json"
  export VK_ICD_FILENAMES="$tmp/icd/nvidia_icd.json"
  echo "no NVIDIA ICD file, but libGLX_nvidia.so.0 is there: VK_ICD_FILENAMES=$VK_ICD_FILENAMES"
fi
echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
# The benchmarks' PyTorch reference: the first Python here that imports torch (on CUDA where
# that torch has it: the torch-cuda records); without one, the TS references stand in.
for py in "$(command -v python3)" /usr/bin/python3 /usr/local/bin/python3 /opt/conda/bin/python; do
  if [ -x "$py" ] && "$py" -c 'import torch' 2>/dev/null; then
    export AKD_PYTHON=$py
    break
  fi
done
if [ -n "${AKD_PYTHON:-}" ]; then
  "$AKD_PYTHON" -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available())'
else
  echo "no Python with torch: the benchmarks' TS references stand in"
fi

for backend in native dawn; do
  step "info-$backend" $((deadline - SECONDS)) deno task akd info --backend "$backend"
done

names=$(deno eval 'import { BENCHMARKS } from "./bench/registry.ts";
console.log(Object.keys(BENCHMARKS).join(" "))') || exit 1
# The issue's targets first, so that a slow later benchmark cannot crowd them out.
order=$(printf '%s\n' gemm pcoreset $names | awk 'NF && !seen[$0]++' | paste -sd' ')
bench_flags=(--json)
[ "$quick" = 1 ] && bench_flags+=(--quick)
tests_reserve=$([ "$quick" = 1 ] && echo 60 || echo 150)
for name in $order; do
  step "bench-$name" $((deadline - tests_reserve - SECONDS)) \
    deno task bench "$name" "${bench_flags[@]}" >"$out/bench-$name.json" 2>"$out/bench-$name.err"
  tail -n 20 "$out/bench-$name.err"
done
deno run --allow-read --allow-write bench/merge_records.ts "$out" $order

if [ "$quick" = 1 ]; then
  test_paths=(tests/kernels/)
  backends=native
else
  test_paths=(tests/kernels/ tests/engine/)
  backends=native,dawn
fi
step tests $((deadline - SECONDS)) env AKD_TEST_BACKENDS=$backends AKD_REQUIRE_BACKENDS=1 \
  deno test -A --parallel=false --junit-path="$out/tests.xml" "${test_paths[@]}"
if [ -s "$out/tests.xml" ]; then
  echo "tests $(deno run --allow-read .ci/junit_counts.ts "$out/tests.xml")" >>"$summary"
fi

echo "fetch attempts $(grep -c '^Download ' "$log")" >>"$summary"
say "done"
cat "$summary"
# Success: every step exited 0, the tests report no failure and nothing was fetched.
! grep -v -e ' rc=0 ' -e '^tests [0-9]* passed, 0 failed' -e '^fetch attempts 0$' "$summary" \
  >/dev/null
