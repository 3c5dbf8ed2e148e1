/** random: a seeded permutation of the pool, first Q (docs/method.md §2). */
import type { Rng } from "../../engine/rng.ts";

export function randomSelect(rows: number, budget: number, rng: Rng): Int32Array {
  // Rng.choice equals the first `budget` entries of rng.permutation(rows), in O(budget) memory.
  return rng.choice(rows, budget);
}
