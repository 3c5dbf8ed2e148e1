/**
 * `bench gemm`: GFLOP/s of the GEMM core (C = A·B, f32) beside PyTorch (CPU with 2 threads, or
 * CUDA where present, TF32 off) on the same shapes in the same run; the float64 TS reference
 * stands in when torch is absent.
 */
import { engine } from "../engine/context.ts";
import { scope, tensor } from "../engine/tensor.ts";
import { gemmRaw } from "../engine/ops/matmul.ts";
import { gemmReference } from "../kernels/gemm/gemm.ts";
import {
  type BenchOptions,
  type BenchRecord,
  type BenchSizes,
  record,
  runTorch,
  sizeProfile,
  timeIt,
  torchAvailable,
  torchDevice,
} from "./harness.ts";

/** [M, N, K] per size profile: square products, a small one, a classifier-head-sized one. */
const CASES: Record<"quick" | BenchSizes, [number, number, number][]> = {
  quick: [[256, 256, 256], [64, 1000, 512]],
  cpu: [[1024, 1024, 1024], [256, 256, 256], [64, 1000, 512]],
  gpu: [[4096, 4096, 4096], [1024, 1024, 1024], [256, 256, 256]],
};

/**
 * Products per timed iteration, so each does at least `minFlops` (0.2 GFLOP on a CPU adapter;
 * 20 GFLOP on a GPU, where one sync per iteration would otherwise dominate the small cases).
 */
function repsFor(m: number, n: number, k: number, minFlops: number): number {
  return Math.max(1, Math.ceil(minFlops / (2 * m * n * k)));
}

function random(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 4294967296 - 0.5;
  }
  return out;
}

/** FLOP the TS reference does at most (seconds in JS): larger products time a row slice. */
const TS_REFERENCE_FLOPS = 4e9;

/**
 * Seconds of the float64 TS reference for the whole product, timed on the first `rows` rows of A
 * (all of them up to TS_REFERENCE_FLOPS) and scaled by M / rows: the work is linear in M.
 */
function tsReference(m: number, n: number, k: number): { seconds: number; rows: number } {
  const rows = Math.min(m, Math.ceil(TS_REFERENCE_FLOPS / (2 * n * k)));
  const a = random(rows * k, 1), b = random(k * n, 2);
  const t0 = performance.now();
  gemmReference(a, [rows, k], b, [k, n]);
  return { seconds: (performance.now() - t0) / 1000 * m / rows, rows };
}

const TORCH_CODE = `
torch.backends.cuda.matmul.allow_tf32 = False  # f32 products, as ours
res = []
for m, n, k, reps, iters in INPUT["cases"]:
    a = torch.rand(m, k, device=DEVICE) - 0.5
    b = torch.rand(k, n, device=DEVICE) - 0.5
    for _ in range(2):
        torch.mm(a, b)
    sync()
    times = []
    for _ in range(iters):
        t = time.perf_counter()
        for _ in range(reps):
            torch.mm(a, b)
        sync()
        times.append((time.perf_counter() - t) / reps)
    times.sort()
    res.append(times[len(times) // 2])
RESULT = res
`;

export async function benchGemm(opts: BenchOptions): Promise<BenchRecord[]> {
  const profile = sizeProfile(opts);
  const cases = CASES[profile];
  const iters = opts.quick ? 3 : 7;
  const minFlops = profile === "gpu" ? 2e10 : 2e8;
  const torch = await torchAvailable();
  const device = torch ? await torchDevice() : undefined;
  const tiles = engine().kernels.gemmTiles;
  const records: BenchRecord[] = [];
  for (const [m, n, k] of cases) {
    const flops = 2 * m * n * k;
    const reps = repsFor(m, n, k, minFlops);
    // Reference first, then ours, case by case: both see the same machine load.
    const ts = torch ? undefined : tsReference(m, n, k);
    const refSeconds = ts?.seconds ??
      (await runTorch<number[]>(TORCH_CODE, { cases: [[m, n, k, reps, iters]], device }))[0];
    const a = tensor(random(m * k, 1), [m, k]);
    const b = tensor(random(k * n, 2), [k, n]);
    const seconds = (await timeIt(async () => {
      for (let r = 0; r < reps; r++) scope(() => gemmRaw(a, b)).dispose();
      await engine().sync();
    }, { warmup: 2, iters })) / reps;
    a.dispose();
    b.dispose();
    records.push(record(
      "gemm",
      `${m}x${n}x${k}`,
      { seconds, throughput: flops / seconds / 1e9, unit: "GFLOP/s" },
      {
        name: device ? `torch-${device}` : "ts-reference",
        seconds: refSeconds,
        throughput: flops / refSeconds / 1e9,
      },
      {
        m,
        n,
        k,
        tiles,
        ...(ts && ts.rows < m
          ? { reference_timing: `first ${ts.rows} of ${m} rows timed, scaled to all (linear in M)` }
          : {}),
      },
      // Each operand read and C written once: the least traffic.
      { flops, bytes: 4 * (m * k + k * n + m * n) },
    ));
  }
  return records;
}
