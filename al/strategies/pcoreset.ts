/**
 * pcoreset (the paper's method, docs/method.md §2): farthest-first traversal in probability space.
 * Centers start as the labeled rows' student probabilities; K times the pool row farthest
 * (Euclidean) from its nearest center is picked and becomes a center.
 */
import { type GreedyOptions, greedySelect, type GreedySelection } from "./greedy.ts";
import type { Matrix } from "./types.ts";

export function pcoresetSelect(
  probs: Matrix,
  labeledProbs: Matrix | undefined,
  budget: number,
  opts: GreedyOptions = {},
): Promise<GreedySelection> {
  return greedySelect(
    {
      kind: "probs",
      pool: probs,
      labeled: labeledProbs,
      names: { pool: "probs", labeled: "labeled_probs" },
      probabilities: true,
    },
    budget,
    opts,
  );
}

/** The coverage radius max_u min_c ||p(u) - p(c)|| of the pool by `centers` (Infinity if none). */
export async function coverageRadius(
  probs: Matrix,
  centers: Matrix | undefined,
  opts: GreedyOptions = {},
): Promise<number> {
  return (await pcoresetSelect(probs, centers, 0, opts)).coverage.after;
}
