/**
 * The loop's selector on top of al/strategies: one selection step, plus the probability-space
 * coverage radius max_u min_c ‖p(u) − p(c)‖ of the pool by the labeled set, before the picks
 * and after them (METHOD.md §4).
 */
import { coverageRadius, select } from "../strategies/mod.ts";
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
    const centers = new Float32Array((m + picks.length) * C);
    centers.set(input.labeledProbs);
    picks.forEach((p, k) => centers.set(input.probs.subarray(p * C, (p + 1) * C), (m + k) * C));
    const radius = (rows: number) =>
      coverageRadius(
        probs,
        rows ? { data: centers.subarray(0, rows * C), shape: [rows, C] } : undefined,
      );
    return {
      picks,
      radiusBefore: await radius(m),
      radiusAfter: await radius(m + picks.length),
    };
  };
}
