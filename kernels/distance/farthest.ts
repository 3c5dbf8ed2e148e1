/**
 * Farthest-first traversal kernels (PCoreSet, Core-Set, BADGE): specs for the entry points of
 * farthest.wgsl and the float64 reference they are tested against.
 */
import { type KernelSpec, wgsl } from "../spec.ts";

const source = wgsl("./farthest.wgsl", import.meta.url);
const bindings = ["pool", "centers", "state", "cc", "parts", "out", "params", "stats"];
const entry = (name: string, entryPoint: string): KernelSpec => ({
  name,
  source,
  bindings,
  entryPoint,
});

/** Running minimum against labeled rows (a batch of them per dispatch) and the first partials. */
export const farthestInitSpec = entry("farthest_init", "init");
/** Chunked pools: the chunk holding the winner copies its row to the centers. */
export const farthestGatherSpec = entry("farthest_gather", "gather");
/** A pick's first half: the winner becomes a center; its distances to the earlier centers. */
export const farthestCentersSpec = entry("farthest_centers", "centers_step");
/** A pick's second half: running min-distances (pruned) and new partials. */
export const farthestUpdateSpec = entry("farthest_update", "update");
/** The final fold (the farthest row left: the coverage radius after selection). */
export const farthestReduceSpec = entry("farthest_reduce", "reduce");

/** Distance codes of the METRIC override. */
export const METRICS = {
  /** Squared Euclidean (PCoreSet in probability space; the square keeps the order). */
  sqeuclidean: 0,
  /** 1 - x.y on L2-normalised rows (Core-Set). */
  cosine: 1,
  /** 1 - (a.a')(b.b'): BADGE's 1 - cos on the factorised gradient embedding. */
  "badge-cosine": 2,
  /** ||g - g'||^2 on the factorised, unnormalised gradient embedding (k-means++). */
  "badge-sqeuclidean": 3,
} as const;
export type Metric = keyof typeof METRICS;

/** float32 unit roundoff. */
const U = 2 ** -24;

/**
 * The pruning test's margins: skip row x for new center c when
 * d(a, c) >= slack d(x, a) + tau, a being x's nearest center. slack = 4 (1 + 0.01): the
 * triangle inequality needs 4; the 1% covers the relative rounding of float32 sums of squares
 * (about (w + 2) u each, under 1e-3 for rows up to 10^4 floats). For 1 - cos, whose rounding is
 * absolute (at most tau0 = 3 (w + 2) u: row norms and the dot product), d(a, c) >= 4 d(x, a)
 * + 5 tau0 suffices; k-means++ distances are not pruned.
 */
export function pruneMargins(metric: Metric, wq: number): { slack: number; tau: number } {
  const tau0 = 3 * (4 * wq + 2) * U;
  return { slack: 4 * 1.01, tau: metric === "sqeuclidean" ? 0 : 5 * tau0 };
}

export interface FarthestFirstResult {
  /** Pool rows in selection order. */
  picks: number[];
  /**
   * scores[k]: the distance of pick k to its nearest center when it was picked; scores[K]: the
   * largest distance of a row left to its nearest center after selection (-Infinity if none).
   */
  scores: number[];
}

/**
 * Greedy farthest-first traversal in float64: K times take the unselected row with the largest
 * distance to its nearest center (the smaller index on exact ties) and make it a center.
 * `initial(i)` is row i's distance to the starting centers (+Infinity without any); `first`
 * forces the first pick (BADGE seeds with the largest gradient norm).
 */
export function farthestFirstReference(
  n: number,
  budget: number,
  initial: (i: number) => number,
  distance: (i: number, j: number) => number,
  first?: number,
): FarthestFirstResult {
  const min = Float64Array.from({ length: n }, (_, i) => initial(i));
  const picks: number[] = [];
  const scores: number[] = [];
  for (let k = 0; k <= budget; k++) {
    let best = -1;
    for (let i = 0; i < n; i++) if (best < 0 || min[i] > min[best]) best = i;
    if (k === 0 && first !== undefined) best = first;
    scores.push(best < 0 ? -Infinity : min[best]);
    if (k === budget) break;
    picks.push(best);
    for (let i = 0; i < n; i++) min[i] = Math.min(min[i], distance(i, best));
    min[best] = -Infinity;
  }
  return { picks, scores };
}
