/**
 * `bench gemm`: GFLOP/s of the GEMM core (C = A·B, f32) beside PyTorch CPU (2 threads) on the same
 * shapes in the same run; the float64 TS reference stands in when torch is absent.
 */
import { engine } from "../engine/context.ts";
import { scope, tensor } from "../engine/tensor.ts";
import { gemmRaw } from "../engine/ops/matmul.ts";
import { gemmReference } from "../kernels/gemm/gemm.ts";
import {
  type BenchOptions,
  type BenchRecord,
  record,
  runTorch,
  timeIt,
  torchAvailable,
} from "./harness.ts";

/** [M, N, K]: a square product, a small one, and a classifier-head-sized one. */
const CASES: [number, number, number][] = [[1024, 1024, 1024], [256, 256, 256], [64, 1000, 512]];
const QUICK_CASES: [number, number, number][] = [[256, 256, 256], [64, 1000, 512]];

/** Products per timed iteration, so each iteration does at least ~0.2 GFLOP. */
function repsFor(m: number, n: number, k: number): number {
  return Math.max(1, Math.ceil(2e8 / (2 * m * n * k)));
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

function tsReferenceSeconds(m: number, n: number, k: number): number {
  const a = random(m * k, 1), b = random(k * n, 2);
  const t0 = performance.now();
  gemmReference(a, [m, k], b, [k, n]);
  return (performance.now() - t0) / 1000;
}

const TORCH_CODE = `
res = []
for m, n, k, reps, iters in INPUT["cases"]:
    a = torch.rand(m, k) - 0.5
    b = torch.rand(k, n) - 0.5
    for _ in range(2):
        torch.mm(a, b)
    times = []
    for _ in range(iters):
        t = time.perf_counter()
        for _ in range(reps):
            torch.mm(a, b)
        times.append((time.perf_counter() - t) / reps)
    times.sort()
    res.append(times[len(times) // 2])
RESULT = res
`;

export async function benchGemm(opts: BenchOptions): Promise<BenchRecord[]> {
  const cases = opts.quick ? QUICK_CASES : CASES;
  const iters = opts.quick ? 3 : 7;
  const torch = await torchAvailable();
  const tiles = engine().kernels.gemmTiles;
  const records: BenchRecord[] = [];
  for (const [m, n, k] of cases) {
    const flops = 2 * m * n * k;
    const reps = repsFor(m, n, k);
    // Reference first, then ours, case by case: both see the same machine load.
    const refSeconds = torch
      ? (await runTorch<number[]>(TORCH_CODE, { cases: [[m, n, k, reps, iters]] }))[0]
      : tsReferenceSeconds(m, n, k);
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
        name: torch ? "torch-cpu" : "ts-reference",
        seconds: refSeconds,
        throughput: flops / refSeconds / 1e9,
      },
      { m, n, k, tiles },
      // Each operand read and C written once: the least traffic.
      { flops, bytes: 4 * (m * k + k * n + m * n) },
    ));
  }
  return records;
}
