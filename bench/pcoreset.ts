/**
 * `bench pcoreset`: one PCoreSet selection (N pool rows, C classes, M labeled, K picks) by our
 * fused GPU traversal beside, on the same data in the same run, (a) the official algorithm
 * (every pick recomputes distances to all centers, batches of 1000 rows through torch.cdist, as
 * the reference strategies.py does) and (b) an incremental running-min version, both PyTorch
 * (CPU, or CUDA where present); picks are checked identical. Ours and (b) are timed round robin,
 * best of >= 5; (a), minutes long, once after them. Without PyTorch: the float64 TS reference.
 */
import { engine } from "../engine/context.ts";
import { Rng } from "../engine/rng.ts";
import { Tensor, tensor } from "../engine/tensor.ts";
import { pcoresetSelect } from "../al/strategies/pcoreset.ts";
import { farthestFirstReference } from "../kernels/distance/farthest.ts";
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

/** [N, C, M, K] per size profile (M labeled rows start the traversal; K picks). */
const CASES: Record<"quick" | BenchSizes, [number, number, number, number]> = {
  quick: [10000, 100, 100, 50],
  cpu: [50000, 100, 100, 200],
  // The hardware target; few labeled rows keep the TS reference's start bounded.
  gpu: [1_000_000, 1000, 10, 1000],
};

/** Rows like the fixtures': softmax(4 onehot(c) + N(0, 1)), c uniform. */
export function clusteredProbs(rows: number, classes: number, rng: Rng): Float32Array {
  const out = new Float32Array(rows * classes);
  const z = new Float64Array(classes);
  for (let r = 0; r < rows; r++) {
    const c = rng.int(classes);
    let max = -Infinity;
    for (let j = 0; j < classes; j++) max = Math.max(max, z[j] = rng.normal() + (j === c ? 4 : 0));
    let sum = 0;
    for (let j = 0; j < classes; j++) sum += z[j] = Math.exp(z[j] - max);
    for (let j = 0; j < classes; j++) out[r * classes + j] = z[j] / sum;
  }
  return out;
}

/**
 * Pools of ~10⁹ values: rows drawn from a bank of `clusteredProbs` rows, each entry scaled by
 * 1 ± 10% and the row renormalised: the same clustered shape, with distinct rows, in a few
 * nanoseconds per value (clusteredProbs takes ~100-160 ns: minutes at that size).
 */
export function jitteredProbs(rows: number, classes: number, rng: Rng): Float32Array {
  const bankRows = 4096;
  const bank = clusteredProbs(bankRows, classes, rng);
  const out = new Float32Array(rows * classes);
  let x = (rng.int(2 ** 31) | 1) >>> 0; // xorshift32 state, seeded from the run's stream
  for (let r = 0; r < rows; r++) {
    const src = rng.int(bankRows) * classes, dst = r * classes;
    let sum = 0;
    for (let j = 0; j < classes; j++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      sum += out[dst + j] = bank[src + j] * (0.9 + 0.2 * (x / 4294967296));
    }
    for (let j = 0; j < classes; j++) out[dst + j] /= sum;
  }
  return out;
}

// The two PyTorch references; they read the pool and labeled rows from a raw float32 file.
const TORCH_CODE = `
import numpy as np
n, c, m, k = INPUT["N"], INPUT["C"], INPUT["M"], INPUT["K"]
raw = np.fromfile(INPUT["path"], dtype="<f4")
P = torch.from_numpy(raw[: n * c].reshape(n, c).copy()).to(DEVICE)
L = torch.from_numpy(raw[n * c :].reshape(m, c).copy()).to(DEVICE)
del raw
sync()

def incremental(limit):
    # running min-distance, updated with the newest center only (stops early as official does)
    start = time.perf_counter()
    md = torch.cdist(P, L, compute_mode="donot_use_mm_for_euclid_dist").min(dim=1).values
    picks = []
    for _ in range(k):
        if picks and time.perf_counter() - start > limit:
            break
        i = int(torch.argmax(md))
        picks.append(i)
        d = ((P - P[i]) ** 2).sum(dim=1).sqrt_()
        torch.minimum(md, d, out=md)
        md[i] = float("-inf")
    return picks

def official(count, limit):
    # the reference's loop: distances of every remaining row to ALL centers, each pick
    # (stops early once "limit" seconds have passed: the caller extrapolates and says so)
    centers = L.clone()
    remaining = list(range(n))
    picks = []
    start = time.perf_counter()
    for _ in range(count):
        if time.perf_counter() - start > limit:
            break
        mins = []
        for s in range(0, len(remaining), 1000):
            rows = remaining[s : s + 1000]
            mins.append(torch.cdist(P[rows], centers, p=2).min(dim=1).values)
        j = int(torch.argmax(torch.cat(mins)))
        picks.append(remaining[j])
        centers = torch.cat([centers, P[remaining[j]].unsqueeze(0)])
        remaining.remove(remaining[j])
    return picks

def no_grad(fn):
    def run():
        with torch.no_grad():
            return fn()
    return run

STEPS["incremental"] = no_grad(lambda: incremental(INPUT["incremental_limit"]))
STEPS["official"] = no_grad(lambda: official(k, INPUT["official_limit"]))
`;

/**
 * Seconds the official algorithm may run (~200 s for all 200 picks on this 2-core machine when
 * idle): past it, its time is extrapolated from the picks done, and the record says so.
 */
const OFFICIAL_LIMIT_S: Record<"quick" | BenchSizes, number> = { quick: 60, cpu: 420, gpu: 30 };

/**
 * The same for each repetition of the incremental loop: only reached by the GPU case on a
 * CPU-only torch (1,000 passes over 4 GB at a few GB/s would take minutes); every pick costs the
 * same pass, so its time scales exactly to K.
 */
const INCREMENTAL_LIMIT_S = 10;

/**
 * Distance terms (row pairs × C) the TS reference may compute (~30 s in JS): past it, it makes
 * fewer picks and its traversal time is scaled to K (the record says so).
 */
const TS_REFERENCE_TERMS = 2e10;

function firstDifference(a: ArrayLike<number>, b: ArrayLike<number>): number | null {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? null : n;
}

export async function benchPcoreset(opts: BenchOptions = {}): Promise<BenchRecord[]> {
  const profile = sizeProfile(opts);
  const [n, c, m, k] = CASES[profile];
  const rng = Rng.fromSeed(20250601).stream("bench-pcoreset");
  const pool = profile === "gpu" ? jitteredProbs(n, c, rng) : clusteredProbs(n, c, rng);
  const labeled = clusteredProbs(m, c, rng);
  const caseName = `N=${n} C=${c} M=${m} K=${k}`;

  const iters = repetitions(opts);
  await using torch = await TorchWorker.start();
  const device = torch?.cuda ? "cuda" : "cpu";
  // Ours: from the pool on the device to the picks on the host (packing and checks included).
  // A pool over the device's largest buffer stays on the host and is uploaded chunk by chunk
  // inside each run.
  const onDevice = pool.byteLength <= (engine().gpu.limits.maxBufferSize ?? 2 ** 28);
  const probs = onDevice ? tensor(pool, [n, c]) : { data: pool, shape: [n, c] };
  const labeledT = tensor(labeled, [m, c]);
  let ours: number[] = [];
  const oursContender = {
    name: "ours",
    run: async () => {
      ours = Array.from((await pcoresetSelect(probs, labeledT, k)).indices);
    },
  };
  let timings: Map<string, Timing>;
  let pruning: Record<string, number> = {};
  // The incremental loop's picks of its last repetition, scaled to K.
  let inc = { seconds: NaN, picks: [] as number[] };
  try {
    await engine().sync();
    if (torch) {
      const path = await Deno.makeTempFile({ suffix: ".f32" });
      try {
        // Pool then labeled rows, appended: no second copy of a pool of gigabytes.
        const bytes = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
        await Deno.writeFile(path, bytes(pool));
        await Deno.writeFile(path, bytes(labeled), { append: true });
        await torch.exec(TORCH_CODE, {
          path,
          N: n,
          C: c,
          M: m,
          K: k,
          official_limit: OFFICIAL_LIMIT_S[profile],
          incremental_limit: INCREMENTAL_LIMIT_S,
          device,
        });
      } finally {
        await Deno.remove(path);
      }
    }
    timings = await compare([
      oursContender,
      ...(torch
        ? [{
          name: `torch-${device}`,
          run: async () => {
            const r = await torch.time("incremental");
            inc = { seconds: r.seconds, picks: r.value as number[] };
            return r.seconds * k / inc.picks.length;
          },
        }]
        : []),
    ], { warmup: 1, iters });
    // Untimed: what the picks' updates read (docs/architecture.md, the farthest-first traversal).
    const p = (await pcoresetSelect(probs, labeledT, k, { stats: true })).pruning!;
    pruning = {
      rows_pruned: +(1 - p.computed / p.visited).toFixed(4),
      pool_read_per_pick: +(p.quads / (p.visited * p.quadsPerRow)).toFixed(4),
    };
  } finally {
    if (probs instanceof Tensor) probs.dispose();
    labeledT.dispose();
  }
  const mineT = timings.get("ours")!;
  const seconds = mineT.best;
  const poolNote = {
    ...(onDevice ? {} : { pool: "on the host, uploaded chunk by chunk in each run" }),
    pruning,
  };
  const mine = { seconds, throughput: k / seconds, unit: "picks/s" };
  // The pool read in full once for the labeled centers and once per pick (what an unpruned
  // traversal reads: pruning may read less, and then the ceiling can pass 1), with 3 FLOPs
  // (subtract, multiply, add) per element and center.
  const work = { bytes: 4 * n * c * (k + 1), flops: 3 * n * c * (m + k) };
  const perPick = (s: number) => +(1000 * s / k).toFixed(3);

  if (!torch) {
    const kRef = Math.min(k, Math.max(1, Math.floor((TS_REFERENCE_TERMS - n * m * c) / (n * c))));
    const t0 = performance.now();
    const initial = Float64Array.from({ length: n }, (_, i) => {
      let best = Infinity;
      for (let l = 0; l < m; l++) best = Math.min(best, sqDist(pool, i, labeled, l, c));
      return best;
    });
    const t1 = performance.now();
    const ref = farthestFirstReference(
      n,
      kRef,
      (i) => initial[i],
      (i, j) => sqDist(pool, i, pool, j, c),
    );
    const refSeconds = ((t1 - t0) + (performance.now() - t1) * k / kRef) / 1000;
    return [
      record("pcoreset", caseName, mine, {
        name: "ts-reference",
        seconds: refSeconds,
        throughput: k / refSeconds,
      }, {
        picks_identical: firstDifference(ours.slice(0, kRef), ref.picks) === null,
        picks_compared: kRef,
        ms_per_pick: perPick(seconds),
        reference_ms_per_pick: perPick(refSeconds),
        timing: `ours: best of ${iters}; the reference: one run, after ours`,
        medianSeconds: mineT.median,
        ...(kRef < k
          ? {
            reference_timing: `first ${kRef} of ${k} picks timed after the start (distances ` +
              "to the labeled rows), scaled linearly to all picks",
          }
          : {}),
        ...poolNote,
      }, work),
    ];
  }

  // The official loop, once (minutes on a CPU): after the round robin.
  const offRun = await torch.time("official");
  const off = { seconds: offRun.seconds, picks: offRun.value as number[] };
  const incT = timings.get(`torch-${device}`)!;
  const done = off.picks.length;
  // Later picks compare against more centers, so scaling the first `done` picks' time up to K
  // underestimates the official time (and our speedup).
  const offSeconds = off.seconds * k / done;
  // Every incremental pick costs the same pass, so scaling its picks is accurate.
  const incSeconds = incT.best;
  const ratios = {
    vs_official: +(offSeconds / seconds).toFixed(1),
    vs_torch_incremental: +(incSeconds / seconds).toFixed(2),
  };
  const common = (picks: number[]) => ({
    picks_identical: firstDifference(ours.slice(0, picks.length), picks) === null,
    picks_compared: picks.length,
    ms_per_pick: perPick(seconds),
    ratios,
    ...poolNote,
  });
  return [
    record("pcoreset", caseName, mine, {
      name: "official-pcoreset",
      seconds: offSeconds,
      throughput: k / offSeconds,
    }, {
      ...common(off.picks),
      reference_ms_per_pick: perPick(offSeconds),
      timing: `ours: best of ${iters}; the official loop: one run, after ours and the ` +
        "incremental loop's round robin",
      medianSeconds: mineT.median,
      reference: "the official algorithm (every pick: torch.cdist of all remaining rows, in " +
        `batches of 1000, to all centers), PyTorch ${
          device === "cuda" ? "CUDA" : "CPU, 2 threads"
        }`,
      official_timing: done === k
        ? `full run of all ${k} picks`
        : `first ${done} of ${k} picks timed (${off.seconds.toFixed(1)} s), extrapolated ` +
          "linearly to all picks: an underestimate, later picks compare against more centers",
    }, work),
    record("pcoreset", caseName, mine, {
      name: `torch-${device}`,
      seconds: incSeconds,
      throughput: k / incSeconds,
    }, {
      ...common(inc.picks),
      reference_ms_per_pick: perPick(incSeconds),
      ...timingNotes(mineT, incT),
      ...(inc.picks.length < k
        ? {
          reference_timing: `first ${inc.picks.length} of ${k} picks timed per repetition ` +
            `(${inc.seconds.toFixed(1)} s the last), extrapolated linearly to all picks`,
        }
        : {}),
      reference: "incremental running-min farthest-first (exact distances), PyTorch " +
        (device === "cuda" ? "CUDA" : "CPU, 2 threads"),
    }, work),
  ];
}

function sqDist(a: Float32Array, i: number, b: Float32Array, j: number, c: number): number {
  let s = 0;
  for (let x = 0; x < c; x++) s += (a[i * c + x] - b[j * c + x]) ** 2;
  return s;
}
