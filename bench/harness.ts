/**
 * Benchmark plumbing: timing, the PyTorch reference (Debian's python3-torch, 2 threads, run as a
 * child process: never a runtime dependency; on CUDA where that Python has it, for the benchmarks
 * that ask), the size profiles, and the record shape of docs/cli.md.
 */
import { engine } from "../engine/context.ts";
import { InputError } from "../engine/errors.ts";
import { pythonPath } from "../al/env.ts";
import type { Work } from "./ceiling.ts";

/**
 * Case sizes: `cpu` fits a 2-core CPU adapter (llvmpipe) in minutes; `gpu` the hardware
 * targets (GEMM 4096³, PCoreSet N = 1,000,000 C = 1,000 K = 1,000), minutes on a data-centre GPU.
 */
export const BENCH_SIZES = ["cpu", "gpu"] as const;
export type BenchSizes = (typeof BENCH_SIZES)[number];

export interface BenchOptions {
  /** Fewer iterations and smaller cases (CI smoke runs); overrides `sizes`. */
  quick?: boolean;
  /** The size profile (default `cpu`). */
  sizes?: BenchSizes;
}

/** Which case table a benchmark uses. */
export function sizeProfile(opts: BenchOptions): "quick" | BenchSizes {
  return opts.quick ? "quick" : opts.sizes ?? "cpu";
}

export interface Measure {
  seconds: number;
  throughput: number;
  unit?: string;
}

export interface BenchRecord {
  name: string;
  case: string;
  backend: string;
  adapter: string;
  ours: Measure & { unit: string };
  reference: { name: string; seconds: number; throughput: number };
  ratio: number;
  /** Extra facts (e.g. tile sizes, picks checked equal, the `ceiling` note). */
  notes?: Record<string, unknown>;
  /** The least work of one timed run (`ours.seconds`), for the ceiling note (bench/ceiling.ts). */
  work?: Work;
}

/** Median wall time of `fn` in seconds; GPU work is synced inside each iteration. */
export async function timeIt(
  fn: () => Promise<void> | void,
  { warmup = 2, iters = 5 } = {},
): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < iters; i++) {
    const t0 = performance.now();
    await fn();
    times.push((performance.now() - t0) / 1000);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

let torchOk: boolean | undefined;

/**
 * Whether the bench's Python imports torch. `AKD_PYTHON` names one the user wants: then a
 * missing program or a missing torch is an error naming the variable, not a silent fallback.
 */
export async function torchAvailable(): Promise<boolean> {
  if (torchOk === undefined) {
    const { path, explicit } = pythonPath();
    let ok: boolean, why: string;
    try {
      const out = await new Deno.Command(path, { args: ["-c", "import torch"], stderr: "null" })
        .output();
      [ok, why] = [out.success, "cannot import torch"];
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      [ok, why] = [false, "no such program"];
    }
    if (!ok && explicit) throw new InputError(`AKD_PYTHON=${path}: ${why}`);
    torchOk = ok;
  }
  return torchOk;
}

export type TorchDevice = "cpu" | "cuda";
let torchCuda: boolean | undefined;

/**
 * Where a benchmark's PyTorch reference runs: `cuda` when the bench's Python has torch with a
 * usable CUDA device (the reference on a GPU machine), else `cpu`. Call after torchAvailable().
 */
export async function torchDevice(): Promise<TorchDevice> {
  torchCuda ??= await runTorch<boolean>("RESULT = torch.cuda.is_available()");
  return torchCuda ? "cuda" : "cpu";
}

/**
 * Runs Python code with `torch` imported and 2 threads; the code reads `INPUT` (the JSON given)
 * and must assign a JSON-serialisable `RESULT`. `DEVICE` is `INPUT["device"]` (default cpu) and
 * `sync()` waits for its queued work, for timing.
 */
export async function runTorch<T>(code: string, input: unknown = {}): Promise<T> {
  const prelude = [
    "import json, sys, time, torch",
    "torch.set_num_threads(2)",
    "INPUT = json.loads(sys.stdin.read())",
    'DEVICE = torch.device(INPUT.get("device", "cpu") if isinstance(INPUT, dict) else "cpu")',
    "def sync():",
    '    if DEVICE.type == "cuda": torch.cuda.synchronize()',
  ].join("\n");
  const epilogue = "\nprint(json.dumps(RESULT))\n";
  const child = new Deno.Command(pythonPath().path, {
    args: ["-c", `${prelude}\n${code}${epilogue}`],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    // OpenBLAS honours these; without them PyTorch may use 1 thread here.
    env: { OMP_NUM_THREADS: "2", OPENBLAS_NUM_THREADS: "2" },
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(JSON.stringify(input)));
  await w.close();
  const out = await child.output();
  if (!out.success) {
    throw new Error(
      `PyTorch reference failed: ${new TextDecoder().decode(out.stderr).slice(-2000)}`,
    );
  }
  const text = new TextDecoder().decode(out.stdout).trim().split("\n").at(-1) ?? "null";
  return JSON.parse(text) as T;
}

/** Builds one record; ratio = ours / reference throughput (above 1: we are faster). */
export function record(
  name: string,
  caseName: string,
  ours: Measure & { unit: string },
  reference: { name: string; seconds: number; throughput: number },
  notes?: Record<string, unknown>,
  work?: Work,
): BenchRecord {
  const gpu = engine().gpu;
  return {
    name,
    case: caseName,
    backend: gpu.backend,
    adapter: gpu.adapter.description || gpu.adapter.device,
    ours,
    reference,
    ratio: ours.throughput / reference.throughput,
    ...(notes ? { notes } : {}),
    ...(work ? { work } : {}),
  };
}
