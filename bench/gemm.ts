/**
 * `bench gemm`: GFLOP/s of the GEMM core (C = A·B, f32) beside PyTorch (CPU with 2 threads, or
 * CUDA where present, TF32 off) and the WebGPU peers (bench/peers.ts) on the same shapes, timed
 * round robin in the same run (best of >= 5); the float64 TS reference stands in when torch is
 * absent.
 */
import { engine } from "../engine/context.ts";
import { scope, tensor } from "../engine/tensor.ts";
import { gemmRaw } from "../engine/ops/matmul.ts";
import { gemmReference } from "../kernels/gemm/gemm.ts";
import {
  type BenchOptions,
  type BenchRecord,
  type BenchSizes,
  compare,
  record,
  repetitions,
  sizeProfile,
  type Timing,
  timingNotes,
  TorchWorker,
} from "./harness.ts";
import { openPeers } from "./peers.ts";

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

function random(n: number, seed: number): Float32Array<ArrayBuffer> {
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

/** One timed unit per case: `reps` products, the last one read back to the host. */
const TORCH_CODE = `
torch.backends.cuda.matmul.allow_tf32 = False  # f32 products, as ours
m, n, k, reps = INPUT["m"], INPUT["n"], INPUT["k"], INPUT["reps"]
a = torch.rand(m, k, device=DEVICE) - 0.5
b = torch.rand(k, n, device=DEVICE) - 0.5
def step():
    for _ in range(reps - 1):
        torch.mm(a, b)
    torch.mm(a, b).cpu()
STEPS["gemm"] = step  # one name: each case's step frees the last one's operands
`;

export async function benchGemm(opts: BenchOptions): Promise<BenchRecord[]> {
  const profile = sizeProfile(opts);
  const cases = CASES[profile];
  const iters = Math.max(repetitions(opts), opts.quick ? 2 : 7);
  const minFlops = profile === "gpu" ? 2e10 : 2e8;
  await using torch = await TorchWorker.start();
  const device = torch?.cuda ? "cuda" : "cpu";
  const gpu = engine().gpu;
  const { peers, skipped } = await openPeers(gpu);
  const tiles = engine().kernels.gemmTiles;
  const records: BenchRecord[] = [];
  for (const [m, n, k] of cases) {
    const flops = 2 * m * n * k;
    const reps = repsFor(m, n, k, minFlops);
    const aData = random(m * k, 1), bData = random(k * n, 2);
    const a = tensor(aData, [m, k]);
    const b = tensor(bData, [k, n]);
    const peerCases = peers.map((p) => ({ peer: p, run: p.gemm(aData, bData, m, n, k) }));
    let timings;
    try {
      await torch?.exec(TORCH_CODE, { m, n, k, reps, device });
      timings = await compare([
        {
          name: "ours",
          run: async () => {
            for (let r = 0; r < reps - 1; r++) scope(() => gemmRaw(a, b)).dispose();
            const c = scope(() => gemmRaw(a, b));
            try {
              await c.read();
            } finally {
              c.dispose();
            }
          },
        },
        ...(torch ? [torch.contender(`torch-${device}`, "gemm")] : []),
        ...peerCases.map(({ peer, run }) => ({
          name: peer.name,
          run: async () => void await run.run(reps),
        })),
      ], { warmup: 2, iters });
    } finally {
      a.dispose();
      b.dispose();
      peerCases.forEach((p) => p.run.dispose());
    }
    const ours = timings.get("ours")!;
    const seconds = ours.best / reps;
    const mine = { seconds, throughput: flops / seconds / 1e9, unit: "GFLOP/s" };
    // Each operand read and C written once: the least traffic.
    const work = { flops, bytes: 4 * (m * k + k * n + m * n) };
    const common = { m, n, k, reps, tiles };
    const against = (name: string, t: Timing, notes: Record<string, unknown> = {}) =>
      record(
        "gemm",
        `${m}x${n}x${k}`,
        mine,
        {
          name,
          seconds: t.best / reps,
          throughput: flops / (t.best / reps) / 1e9,
        },
        { ...common, ...timingNotes(ours, t, reps), ...notes },
        work,
      );
    if (torch) {
      records.push(against(`torch-${device}`, timings.get(`torch-${device}`)!));
    } else {
      const ts = tsReference(m, n, k);
      records.push(record("gemm", `${m}x${n}x${k}`, mine, {
        name: "ts-reference",
        seconds: ts.seconds,
        throughput: flops / ts.seconds / 1e9,
      }, {
        ...common,
        timing: `ours: best of ${iters}; the reference: one run, after ours`,
        medianSeconds: ours.median / reps,
        ...(ts.rows < m
          ? { reference_timing: `first ${ts.rows} of ${m} rows timed, scaled to all (linear in M)` }
          : {}),
      }, work));
    }
    for (const { peer } of peerCases) {
      records.push(against(peer.name, timings.get(peer.name)!, { peerAdapter: peer.adapter }));
    }
    if (skipped.length) records.at(-1)!.notes!.peersSkipped = skipped;
  }
  return records;
}
