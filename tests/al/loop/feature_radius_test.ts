/**
 * The feature-space coverage radius of `coreset` selections (coreset's own 1 − cos on the
 * student's features): the selector's value against a float64 brute force (before and after the picks), absent for the other strategies; the loop
 * writes it to report.json, report.csv and through a resumed round's checkpoint.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runLoop } from "../../../al/loop/loop.ts";
import { strategySelector } from "../../../al/loop/select.ts";
import type { SelectionInput, Selector } from "../../../al/ports.ts";
import type { Report } from "../../../al/report/types.ts";
import { Rng } from "../../../engine/rng.ts";
import { gpuTest } from "../../gpu.ts";
import { ENV, fakeConfig, fakeData, FakeLearner, fakeSelect, fakeTeacher } from "./fakes.ts";

/** max_u min_c dist(x(u), c) over pool rows [n, d] and centre rows, in float64. */
function bruteRadius(
  pool: Float32Array,
  centers: number[][],
  d: number,
  dist: (a: number[], b: number[]) => number,
): number {
  let worst = 0;
  for (let u = 0; u < pool.length / d; u++) {
    const x = Array.from(pool.subarray(u * d, (u + 1) * d));
    worst = Math.max(worst, Math.min(...centers.map((c) => dist(x, c))));
  }
  return worst;
}

const euclidean = (a: number[], b: number[]) => Math.hypot(...a.map((v, k) => v - b[k]));
const cosineDistance = (a: number[], b: number[]) => {
  const dot = a.reduce((s, v, k) => s + v * b[k], 0);
  return 1 - dot / (Math.hypot(...a) * Math.hypot(...b));
};

function input(n: number, m: number, C: number, D: number): SelectionInput {
  const rng = Rng.fromSeed(5);
  const probs = (rows: number) => {
    const p = Float32Array.from({ length: rows * C }, () => rng.uniform() + 0.01);
    for (let i = 0; i < rows; i++) {
      let s = 0;
      for (let c = 0; c < C; c++) s += p[i * C + c];
      for (let c = 0; c < C; c++) p[i * C + c] /= s;
    }
    return p;
  };
  const features = (rows: number) => Float32Array.from({ length: rows * D }, () => rng.normal());
  return {
    classes: C,
    dim: D,
    probs: probs(n),
    features: features(n),
    labeledProbs: probs(m),
    labeledFeatures: features(m),
    labeledLabels: Int32Array.from({ length: m }, (_, i) => i % C),
  };
}

gpuTest("coreset: the feature-space coverage radius before and after the picks", async () => {
  const [n, m, C, D] = [37, 3, 4, 6];
  const x = input(n, m, C, D);
  const select = strategySelector();
  const sel = await select("coreset", x, 5, Rng.fromSeed(1));
  const rows = (data: Float32Array, d: number, idx: number[]) =>
    idx.map((i) => Array.from(data.subarray(i * d, (i + 1) * d)));
  const labeled = rows(x.labeledFeatures, D, [0, 1, 2]);
  const picked = rows(x.features, D, Array.from(sel.picks));
  const before = bruteRadius(x.features, labeled, D, cosineDistance);
  const after = bruteRadius(x.features, [...labeled, ...picked], D, cosineDistance);
  assert.ok(Math.abs(sel.featureRadiusBefore! - before) <= 1e-5 * before, "before");
  assert.ok(Math.abs(sel.featureRadiusAfter! - after) <= 1e-5 * after, "after");
  assert.ok(after < before, "coreset's picks shrink the feature-space radius");
  // The probability-space radius is still the one reported beside it.
  const probBefore = bruteRadius(x.probs, rows(x.labeledProbs, C, [0, 1, 2]), C, euclidean);
  assert.ok(Math.abs(sel.radiusBefore! - probBefore) <= 1e-5 * probBefore, "prob. radius");
  for (const other of ["random", "pcoreset"] as const) {
    const s = await select(other, x, 5, Rng.fromSeed(1));
    assert.equal(s.featureRadiusBefore, undefined, other);
    assert.equal(s.featureRadiusAfter, undefined, other);
  }
}, { oneBackend: true });

Deno.test("loop: coreset rows carry the feature radius into report.json and report.csv", async () => {
  const out = await Deno.makeTempDir();
  try {
    // The fake selector, plus fixed feature radii for coreset (as strategySelector gives).
    const select: Selector = async (strategy, x, budget, rng) => ({
      ...(await fakeSelect(strategy, x, budget, rng)),
      ...(strategy === "coreset" ? { featureRadiusBefore: 2.5, featureRadiusAfter: 1.5 } : {}),
    });
    const data = fakeData();
    const config = fakeConfig(out, { strategies: ["random", "coreset"], seeds: [1] });
    const { report } = await runLoop({
      config,
      data,
      teacher: fakeTeacher(data),
      learner: new FakeLearner(data),
      select,
      environment: ENV,
    });
    const check = (r: Report) => {
      for (const row of r.results) {
        const selected = row.round < config.rounds;
        const expected = row.strategy === "coreset" && selected
          ? [2.5, 1.5]
          : [undefined, undefined];
        assert.deepEqual(
          [row.feature_coverage_radius, row.feature_coverage_radius_after],
          expected,
          `${row.strategy} round ${row.round}`,
        );
      }
    };
    check(report);
    check(JSON.parse(await Deno.readTextFile(join(out, "report.json"))));
    const csv = (await Deno.readTextFile(join(out, "report.csv"))).split("\n");
    const header = csv[0].split(",");
    const col = header.indexOf("feature_coverage_radius");
    assert.ok(col > 0 && header[col + 1] === "feature_coverage_radius_after");
    const coreset1 = csv.find((l) => l.startsWith("coreset,1,1,"))!.split(",");
    assert.deepEqual(coreset1.slice(col, col + 2), ["2.5", "1.5"]);
    const random1 = csv.find((l) => l.startsWith("random,1,1,"))!.split(",");
    assert.deepEqual(random1.slice(col, col + 2), ["", ""]);

    // Resumed from its checkpoints (report.json removed), the rows are the same.
    await Deno.remove(join(out, "report.json"));
    const again = await runLoop({
      config,
      data,
      teacher: fakeTeacher(data),
      learner: new FakeLearner(data),
      select,
      environment: ENV,
      resume: true,
    });
    check(again.report);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
