import assert from "node:assert/strict";
import { assertClose, gpuTest, randomData } from "../../gpu.ts";
import { engine } from "../../../engine/context.ts";
import { InputError } from "../../../engine/errors.ts";
import { farthestFirstReference } from "../../../kernels/distance/farthest.ts";
import { unitReference } from "../../../kernels/distance/pack.ts";
import { type GreedyInput, greedySelect } from "../../../al/strategies/greedy.ts";
import { InputChecks, pack, type SpaceKind } from "../../../al/strategies/space.ts";
import { Traversal } from "../../../al/strategies/farthest_first.ts";
import { type HostMatrix } from "../../../al/strategies/types.ts";

const mat = (data: Float32Array, rows: number): HostMatrix => ({
  data,
  shape: [rows, data.length / rows],
});

function row(m: HostMatrix, i: number): Float32Array {
  const c = m.shape[1];
  return m.data.subarray(i * c, (i + 1) * c);
}

function sq(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += (x[i] - y[i]) ** 2;
  return s;
}

function dot(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * y[i];
  return s;
}

/** The float64 traversal for a pool and labeled set under `d`. */
function reference(
  pool: HostMatrix,
  labeled: HostMatrix,
  budget: number,
  d: (x: Float32Array, y: Float32Array) => number,
) {
  return farthestFirstReference(pool.shape[0], budget, (i) => {
    let best = Infinity;
    for (let l = 0; l < labeled.shape[0]; l++) {
      best = Math.min(best, d(row(pool, i), row(labeled, l)));
    }
    return best;
  }, (i, j) => d(row(pool, i), row(pool, j)));
}

const N = 1037, C = 13, M = 7, K = 25;
// Probability rows from random logits.
function probs(rows: number, seed: number): Float32Array {
  const z = randomData(rows * C, seed, -3, 3);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let c = 0; c < C; c++) s += z[r * C + c] = Math.exp(z[r * C + c]);
    for (let c = 0; c < C; c++) z[r * C + c] /= s;
  }
  return z;
}

// Variants that must not change a pick: launch shapes, no pruning, and pools streamed in many
// chunks (64-row chunks of 16-float rows: the gather path), besides the defaults.
const VARIANTS = [
  {},
  { workgroupSize: 256, rowsPerThread: 1 },
  { prune: false },
  { workgroupSize: 64, rowsPerThread: 4, maxChunkBytes: 64 * 16 * 4 },
];

gpuTest("pcoreset traversal: picks equal the float64 reference, scores within 1e-5", async () => {
  const pool = mat(probs(N, 1), N);
  const labeled = mat(probs(M, 2), M);
  const ref = reference(pool, labeled, K, sq);
  const input: GreedyInput = {
    kind: "probs",
    pool,
    labeled,
    names: { pool: "probs", labeled: "labeled_probs" },
    probabilities: true,
  };
  for (const opts of VARIANTS) {
    const got = await greedySelect(input, K, opts);
    assert.deepEqual(Array.from(got.indices), ref.picks, JSON.stringify(opts));
    // Euclidean distances of float32 data: relative error of float32 sums of C squares.
    assertClose(got.scores, ref.scores.slice(0, K).map(Math.sqrt), { rtol: 1e-5, atol: 1e-7 });
    assertClose(
      [got.coverage.before, got.coverage.after],
      [ref.scores[0], ref.scores[K]].map(Math.sqrt),
      {
        rtol: 1e-5,
        atol: 1e-7,
        what: "coverage",
      },
    );
  }
});

gpuTest("coreset traversal: 1 - cos on normalised rows equals the float64 reference", async () => {
  const pool = mat(randomData(N * C, 3), N);
  const labeled = mat(randomData(M * C, 4), M);
  const d = (x: Float32Array, y: Float32Array) => 1 - dot(unitReference(x), unitReference(y));
  const ref = reference(pool, labeled, K, d);
  for (const opts of VARIANTS) {
    const got = await greedySelect(
      {
        kind: "unit",
        pool,
        labeled,
        names: { pool: "features", labeled: "labeled_features" },
        probabilities: false,
      },
      K,
      opts,
    );
    assert.deepEqual(Array.from(got.indices), ref.picks, JSON.stringify(opts));
    // 1 - cos from float32 unit rows: absolute error ~ C ulp.
    assertClose(got.scores, ref.scores.slice(0, K), { rtol: 0, atol: 2e-6 });
  }
});

gpuTest("exact ties: the smaller row index wins, across workgroups and chunks", async () => {
  // Rows alternate between two points A and B; the labeled set is A. Every B ties at the
  // largest distance (row 1 wins), then every row ties at 0 (ascending unselected rows).
  const n = 1030;
  const a = [0.7, 0.2, 0.1], b = [0.1, 0.3, 0.6];
  const data = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) data.set(i % 2 ? b : a, 3 * i);
  const input: GreedyInput = {
    kind: "probs",
    pool: mat(data, n),
    labeled: mat(Float32Array.from(a), 1),
    names: { pool: "probs" },
    probabilities: true,
  };
  for (const opts of [...VARIANTS, { maxChunkBytes: 64 * 4 * 4 }]) {
    const got = await greedySelect(input, 8, opts);
    assert.deepEqual(Array.from(got.indices), [1, 0, 2, 3, 4, 5, 6, 7], JSON.stringify(opts));
  }
  // Without labeled rows every row starts at +inf: the traversal starts at row 0; a pool of
  // equal rows is taken in order to the last, and then no row is left (radius 0).
  const same = await greedySelect({
    ...input,
    pool: mat(new Float32Array(15).fill(1 / 3), 5),
    labeled: undefined,
  }, 5);
  assert.deepEqual(Array.from(same.indices), [0, 1, 2, 3, 4]);
  assert.equal(same.coverage.before, Infinity);
  assert.equal(same.coverage.after, 0);
});

gpuTest(
  "labeled sets larger than one init batch (1024 rows) continue the running minimum",
  async () => {
    const n = 300, m = 1100;
    const pool = mat(randomData(n * 3, 5, 0, 1), n);
    const labeled = mat(randomData(m * 3, 6, 0, 1), m);
    const ref = reference(pool, labeled, 6, sq);
    const got = await greedySelect({
      kind: "probs",
      pool,
      labeled,
      names: { pool: "p" },
      probabilities: false,
    }, 6);
    assert.deepEqual(Array.from(got.indices), ref.picks);
  },
);

gpuTest("bad rows are refused with the matrix and the first offending row named", async () => {
  const pool = probs(300, 7);
  const run = (data: Float32Array, labeled?: Float32Array) =>
    greedySelect(
      {
        kind: "probs",
        pool: mat(data, 300),
        labeled: labeled && mat(labeled, labeled.length / C),
        names: { pool: "probs", labeled: "labeled_probs" },
        probabilities: true,
      },
      3,
      { maxChunkBytes: 64 * 16 * 4 },
    );
  const bad = (edit: (d: Float32Array) => void) => {
    const d = pool.slice();
    edit(d);
    return d;
  };
  await assert.rejects(
    run(bad((d) => {
      d[200 * C + 3] = NaN;
      d[250 * C] = Infinity;
    })),
    (e) => e instanceof InputError && e.message === "probs: row 200 contains NaN or Inf",
  );
  // Tolerance 1e-3 on the row sum: 1 + 2e-3 is refused, 1 + 5e-4 accepted; negatives refused.
  await assert.rejects(
    run(bad((d) => d[131 * C] += 2e-3)),
    (e) => e instanceof InputError && /^probs: row 131 is not a probability vector/.test(e.message),
  );
  await run(bad((d) => d[131 * C] += 5e-4));
  await assert.rejects(
    run(bad((d) => {
      d[9 * C] = -0.01;
      d[9 * C + 1] += 0.01;
    })),
    /probs: row 9 is not a probability/,
  );
  await assert.rejects(
    run(pool, bad((d) => d[5] = NaN).subarray(0, 4 * C)),
    /labeled_probs: row 0 contains NaN or Inf/,
  );
});

gpuTest("selections leave no GPU memory behind", async () => {
  const pool = mat(probs(N, 8), N);
  const input: GreedyInput = { kind: "probs", pool, names: { pool: "p" }, probabilities: true };
  await greedySelect(input, 5);
  const before = engine().pool.liveBytes;
  for (let i = 0; i < 3; i++) await greedySelect(input, 5, { maxChunkBytes: 128 * 16 * 4 });
  assert.equal(engine().pool.liveBytes, before);
});

/** Every row's min-distance after `k` picks, with and without pruning. */
async function minima(kind: SpaceKind, pool: HostMatrix, labeled: HostMatrix, k: number) {
  const checks = new InputChecks();
  const space = await pack(kind, pool, undefined, checks, { what: "p", probabilities: false });
  const centers = await pack(kind, labeled, undefined, checks, { what: "l", probabilities: false });
  const run = async (prune: boolean) => {
    const t = new Traversal(space, k, { prune });
    try {
      t.init(centers);
      for (let i = 0; i < k; i++) t.step();
      return { md: await t.minDistances(), picks: (await t.finish()).picks };
    } finally {
      t.dispose();
    }
  };
  try {
    return [await run(true), await run(false)];
  } finally {
    space.dispose();
    centers.dispose();
    checks.dispose();
  }
}

/** Clustered rows (pruning skips most): softmax(4 onehot(c) + noise), c in 0..5. */
function clustered(rows: number, seed: number): Float32Array {
  const z = randomData(rows * C, seed, -1, 1);
  for (let r = 0; r < rows; r++) z[r * C + (r * 7919) % 6] += 4;
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let c = 0; c < C; c++) s += z[r * C + c] = Math.exp(z[r * C + c]);
    for (let c = 0; c < C; c++) z[r * C + c] /= s;
  }
  return z;
}

gpuTest("pruning leaves every running minimum bit-identical (Euclidean and 1 - cos)", async () => {
  const cases: [SpaceKind, Float32Array, Float32Array][] = [
    ["probs", clustered(N, 9), clustered(M, 10)],
    ["probs", probs(N, 11), probs(M, 12)],
    ["unit", clustered(N, 13), clustered(M, 14)],
    ["unit", randomData(N * C, 15), randomData(M * C, 16)],
  ];
  for (const [kind, pool, labeled] of cases) {
    const [pruned, full] = await minima(kind, mat(pool, N), mat(labeled, M), 40);
    assert.deepEqual(pruned.picks, full.picks, kind);
    assert.deepEqual(pruned.md, full.md, `${kind}: min-distances`);
  }
});

/** Rows of C2 classes: softmax(gap onehot(c) + noise); `gap` 4 is the bench's, larger is peaked. */
function softmaxRows(rows: number, classes: number, seed: number, gap: (r: number) => number) {
  const z = randomData(rows * classes, seed, -1, 1);
  for (let r = 0; r < rows; r++) {
    z[r * classes + (r * 7919) % classes] += gap(r);
    let s = 0;
    for (let c = 0; c < classes; c++) s += z[r * classes + c] = Math.exp(z[r * classes + c]);
    for (let c = 0; c < classes; c++) z[r * classes + c] /= s;
  }
  return z;
}

gpuTest(
  "pruned updates and stopped sums: minima bit-identical, counted, on heavy and never-pruned pools",
  async () => {
    // C2 = 61: 16 vec4s per row, the last one ragged, so sums can stop after 4, 8 or 12 vec4s.
    const n = 2053, c2 = 61, m = 9, k = 150;
    const bench = softmaxRows(n + m, c2, 17, () => 4);
    // Trained-classifier-like rows: a logit gap of 2 to 12 on the predicted class.
    const peaked = softmaxRows(n + m, c2, 18, (r) => 2 + (r * 37 % 101) / 10);
    // Near-vertices of the simplex, one per class, and the uniform row as the only center: every
    // row stays nearest to it (distance ~1 - 1/C2 against ~2 between vertices), so d(a, c) < 4
    // d(x, a) always and no row is ever pruned.
    const vertices = softmaxRows(c2, c2, 19, () => 12);
    const uniform = new Float32Array(c2).fill(1 / c2);
    const cases: [string, HostMatrix, HostMatrix, number][] = [
      ["bench-like", mat(bench.subarray(0, n * c2), n), mat(bench.subarray(n * c2), m), k],
      ["peaked", mat(peaked.subarray(0, n * c2), n), mat(peaked.subarray(n * c2), m), k],
      ["never", mat(vertices, c2), mat(uniform, 1), 20],
    ];
    for (const [what, pool, labeled, budget] of cases) {
      const ref = reference(pool, labeled, budget, sq);
      const input: GreedyInput = {
        kind: "probs",
        pool,
        labeled,
        names: { pool: "probs" },
        probabilities: true,
      };
      const got = await greedySelect(input, budget, { stats: true });
      assert.deepEqual(Array.from(got.indices), ref.picks, what);
      const [pruned, full] = await minima("probs", pool, labeled, budget);
      assert.deepEqual(pruned.md, full.md, `${what}: min-distances`);
      const p = got.pruning!;
      const rows = pool.shape[0];
      // Pick s updates every row but the s + 1 selected so far.
      assert.equal(p.visited, budget * rows - budget * (budget + 1) / 2, what);
      assert.equal(p.quadsPerRow, 16);
      const computed = p.computed / p.visited, read = p.quads / (p.visited * p.quadsPerRow);
      if (what === "never") {
        // No row pruned; the sums still stop early (42% of the vec4s read, in float64).
        assert.equal(p.computed, p.visited, "never: no row pruned");
      } else {
        // In float64 on these pools 77% (bench-like) and 81% (peaked) of the visited rows are
        // pruned, and the rows left read 67% and 63% of their vec4s.
        assert.ok(computed < 0.35, `${what}: ${computed} of the rows computed`);
        assert.ok(read < 0.8 * computed, `${what}: ${read} of the pool read`);
      }
      assert.ok(p.quads <= p.computed * p.quadsPerRow && p.quads >= p.computed * 4, what);
    }
  },
);
