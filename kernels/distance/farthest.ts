/**
 * Farthest-first traversal kernels (PCoreSet, Core-Set, BADGE): specs for the entry points of
 * farthest.wgsl and the float64 reference they are tested against.
 */
import { type KernelSpec, wgsl } from "../spec.ts";

const source = wgsl("./farthest.wgsl", import.meta.url);
const bindings = ["pool", "centers", "mindist", "parts", "out", "center_out", "params"];

/** Running minimum against labeled rows (a batch of them per dispatch) and the first partials. */
export const farthestInitSpec: KernelSpec = {
  name: "farthest_init",
  source,
  bindings,
  entryPoint: "init",
};
/** One pick: fold partials into the winner, take it as a center, update, write partials. */
export const farthestUpdateSpec: KernelSpec = {
  name: "farthest_update",
  source,
  bindings,
  entryPoint: "update",
};
/** Chunked pools: copy the winner's row out of the chunk holding it. */
export const farthestGatherSpec: KernelSpec = {
  name: "farthest_gather",
  source,
  bindings,
  entryPoint: "gather",
};
/** The final fold (the farthest row left: the coverage radius after selection). */
export const farthestReduceSpec: KernelSpec = {
  name: "farthest_reduce",
  source,
  bindings,
  entryPoint: "reduce",
};

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

/** Largest RPT override (the kernel's MAX_RPT: vec4s of rows per thread). */
export const MAX_ROWS_PER_THREAD = 4;

/** float64 distance between two packed rows of a metric (`split`: first column of block b). */
export function packedDistance(
  metric: Metric,
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  split = 0,
): number {
  const w = x.length;
  let a = 0, b = 0;
  switch (metric) {
    case "sqeuclidean":
      for (let c = 0; c < w; c++) a += (x[c] - y[c]) ** 2;
      return a;
    case "cosine":
      for (let c = 0; c < w; c++) a += x[c] * y[c];
      return 1 - a;
    case "badge-cosine":
      for (let c = 0; c < w; c++) c < split ? (a += x[c] * y[c]) : (b += x[c] * y[c]);
      return 1 - a * b;
    case "badge-sqeuclidean":
      for (let c = 0; c < w - 1; c++) c < split ? (a += x[c] * y[c]) : (b += x[c] * y[c]);
      return Math.max(x[w - 1] + y[w - 1] - 2 * a * b, 0);
  }
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
