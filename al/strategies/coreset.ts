/**
 * coreset (k-center greedy, Sener & Savarese; docs/method.md §2): farthest-first traversal on
 * L2-normalised penultimate features with distance 1 - cos, centers starting at the labeled set.
 */
import { type GreedyOptions, greedySelect, type GreedySelection } from "./greedy.ts";
import type { Matrix } from "./types.ts";

export function coresetSelect(
  features: Matrix,
  labeledFeatures: Matrix | undefined,
  budget: number,
  opts: GreedyOptions = {},
): Promise<GreedySelection> {
  return greedySelect(
    {
      kind: "unit",
      pool: features,
      labeled: labeledFeatures,
      names: { pool: "features", labeled: "labeled_features" },
      probabilities: false,
    },
    budget,
    opts,
  );
}
