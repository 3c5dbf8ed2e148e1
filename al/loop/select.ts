/**
 * The loop's selector on top of al/strategies: one selection step, plus the probability-space
 * coverage radius max_u min_c ‖p(u) − p(c)‖ of the pool by the labeled set, before the picks
 * and after them (docs/method.md §4); for `coreset`, also the radius in its own space, max_u min_c
 * (1 − cos(f(u), f(c))) over the student's features.
 */
import { coresetSelect, coverageRadius, type Matrix, select } from "../strategies/mod.ts";
import type { Selector } from "../ports.ts";

export function strategySelector(): Selector {
  return async (strategy, input, budget, rng) => {
    const C = input.classes;
    const D = input.dim;
    const n = input.probs.length / C;
    const m = input.labeledLabels.length;
    const probs = { data: input.probs, shape: [n, C] };
    const labeledProbs = { data: input.labeledProbs, shape: [m, C] };
    // No feature columns: the strategy reads none (replay saves only what it reads).
    const features = (data: Float32Array, rows: number) =>
      D > 0 ? { data, shape: [rows, D] } : undefined;
    const picks = await select(
      strategy,
      { probs, features: features(input.features, n) },
      {
        probs: labeledProbs,
        features: features(input.labeledFeatures, m),
        labels: input.labeledLabels,
      },
      budget,
      rng,
    );
    const radius = radii(input.probs, input.labeledProbs, C, picks, coverageRadius);
    const featureRadius = strategy === "coreset"
      ? radii(input.features, input.labeledFeatures, D, picks, featureCoverage)
      : undefined;
    return {
      picks,
      radiusBefore: await radius(m),
      radiusAfter: await radius(m + picks.length),
      featureRadiusBefore: await featureRadius?.(m),
      featureRadiusAfter: await featureRadius?.(m + picks.length),
    };
  };
}

/** coreset's radius: max_u min_c (1 − cos) of the pool rows by the centers. */
async function featureCoverage(pool: Matrix, centers: Matrix | undefined): Promise<number> {
  return (await coresetSelect(pool, centers, 0)).coverage.after;
}

/**
 * The coverage radius (by `measure`) of the pool rows [n, d] by the first `rows` centers: the
 * labeled rows followed by the picked pool rows.
 */
function radii(
  pool: Float32Array,
  labeled: Float32Array,
  d: number,
  picks: Int32Array,
  measure: (pool: Matrix, centers: Matrix | undefined) => Promise<number>,
) {
  const m = labeled.length / d;
  const centers = new Float32Array((m + picks.length) * d);
  centers.set(labeled);
  picks.forEach((p, k) => centers.set(pool.subarray(p * d, (p + 1) * d), (m + k) * d));
  const matrix = { data: pool, shape: [pool.length / d, d] };
  return (rows: number) =>
    measure(
      matrix,
      rows ? { data: centers.subarray(0, rows * d), shape: [rows, d] } : undefined,
    );
}
