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
    const picks = await select(
      strategy,
      { probs, features: { data: input.features, shape: [n, D] } },
      {
        probs: labeledProbs,
        features: { data: input.labeledFeatures, shape: [m, D] },
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
