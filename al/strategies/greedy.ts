/**
 * Greedy farthest-first selection from matrices (PCoreSet, Core-Set, BADGE): pack the pool and
 * the starting centers, check the input (one small readback), run the traversal on the GPU.
 */
import { InputChecks, pack, type PackOptions, type Space, type SpaceKind } from "./space.ts";
import { farthestFirst, type PruningStats, type TraversalOptions } from "./farthest_first.ts";
import type { Matrix } from "./types.ts";

export interface GreedyOptions extends PackOptions, TraversalOptions {}

export interface GreedySelection {
  indices: Int32Array;
  /** Each pick's distance to its nearest center when picked (Euclidean, or 1 - cos). */
  scores: number[];
  /**
   * The coverage radius max_u min_c d(u, c) over unselected pool rows, with the starting
   * centers (Infinity without any) and after adding the picks (0 when no row is left).
   */
  coverage: { before: number; after: number };
  /** With the `stats` option: what the picks' updates read. */
  pruning?: PruningStats;
}

export interface GreedyInput {
  kind: SpaceKind;
  pool: Matrix;
  /** BADGE kinds: the features beside the probabilities. */
  pool2?: Matrix;
  /** Starting centers (packed like the pool); none: every row starts at +inf. */
  labeled?: Matrix;
  names: { pool: string; pool2?: string; labeled?: string };
  /** Check rows are probability vectors. */
  probabilities: boolean;
  /** Decides the first pick after packing (BADGE); undefined: the farthest row. */
  first?: (space: Space, checks: InputChecks) => Promise<number | undefined>;
}

function natural(space: Space, score: number): number {
  if (score === -Infinity) return 0;
  return space.metric === "sqeuclidean" ? Math.sqrt(score) : score;
}

export async function greedySelect(
  input: GreedyInput,
  budget: number,
  opts: GreedyOptions = {},
): Promise<GreedySelection> {
  if (input.pool.shape[0] === 0) {
    // Nothing to pick and nothing to cover.
    return { indices: new Int32Array(0), scores: [], coverage: { before: 0, after: 0 } };
  }
  const checks = new InputChecks();
  const spaces: Space[] = [];
  try {
    const pool = await pack(input.kind, input.pool, input.pool2, checks, {
      what: input.names.pool,
      what2: input.names.pool2,
      probabilities: input.probabilities,
    }, opts);
    spaces.push(pool);
    let centers: Space | undefined;
    if (input.labeled && input.labeled.shape[0] > 0) {
      centers = await pack(input.kind, input.labeled, undefined, checks, {
        what: input.names.labeled ?? "labeled",
        probabilities: input.probabilities,
      }, { maxChunkBytes: Infinity });
      spaces.push(centers);
      if (centers.chunks.length !== 1) throw new Error("labeled set larger than one binding");
    }
    await checks.read();
    const first = await input.first?.(pool, checks);
    const run = await farthestFirst(pool, centers, budget, { ...opts, first });
    const scores = Array.from(run.scores, (s) => natural(pool, s));
    return {
      indices: run.picks,
      scores: scores.slice(0, budget),
      coverage: { before: scores[0], after: scores[budget] },
      ...(run.pruning ? { pruning: run.pruning } : {}),
    };
  } finally {
    for (const s of spaces) s.dispose();
    checks.dispose();
  }
}
