/**
 * BADGE on gradient embeddings g = (onehot(argmax p) - p) (outer) h (docs/method.md §2), never
 * formed: g.g' = ((onehot - p).(onehot' - p'))(h.h'), so a pick costs O(N (C + D)), not O(N C D).
 * - badge (the reference's variant): g L2-normalised; first pick = argmax ||g|| (the first row
 *   with a non-zero embedding, as all others have norm 1); then farthest-first in 1 - cos
 *   against the selected rows only.
 * - badge-kmeanspp (the original): k-means++ seeding on unnormalised g: first pick = argmax
 *   ||g||, then each pick drawn with probability proportional to its squared Euclidean distance
 *   to the nearest pick (one readback of the distances per pick).
 */
import type { Rng } from "../../engine/rng.ts";
import { type GreedyOptions, greedySelect, type GreedySelection } from "./greedy.ts";
import { Traversal } from "./farthest_first.ts";
import { InputChecks, pack } from "./space.ts";
import { hostData } from "./matrix.ts";
import type { Matrix } from "./types.ts";

const NAMES = { pool: "probs", pool2: "features" };

/** argmax_i ||g_i|| = ||onehot - p_i|| ||h_i|| in float64, the first row on ties. */
export async function largestGradientRow(probs: Matrix, features: Matrix): Promise<number> {
  const [p, h] = [await hostData(probs), await hostData(features)];
  const [c, d] = [probs.shape[1], features.shape[1]];
  let best = -1, arg = 0;
  for (let r = 0; r < probs.shape[0]; r++) {
    let top = 0;
    for (let j = 1; j < c; j++) if (p[r * c + j] > p[r * c + top]) top = j;
    let dn = 0, hn = 0;
    for (let j = 0; j < c; j++) dn += ((j === top ? 1 : 0) - p[r * c + j]) ** 2;
    for (let j = 0; j < d; j++) hn += h[r * d + j] ** 2;
    if (dn * hn > best) [best, arg] = [dn * hn, r];
  }
  return arg;
}

export function badgeSelect(
  probs: Matrix,
  features: Matrix,
  budget: number,
  opts: GreedyOptions = {},
): Promise<GreedySelection> {
  return greedySelect(
    {
      kind: "badge",
      pool: probs,
      pool2: features,
      names: NAMES,
      probabilities: true,
      // Every row of norm 1 ties: the first wins. With none (all g ~ 0): the largest ||g||.
      first: async (space, checks) =>
        checks.firstNonZero(space.flagAt) ?? await largestGradientRow(probs, features),
    },
    budget,
    opts,
  );
}

/** A row drawn with probability proportional to its (finite, positive) min-distance. */
export function sampleByDistance(minDist: Float32Array, rng: Rng): number {
  let total = 0;
  for (const v of minDist) if (v > 0) total += v;
  if (total > 0 && Number.isFinite(total)) {
    const u = rng.uniform() * total;
    let acc = 0, last = -1;
    for (let i = 0; i < minDist.length; i++) {
      if (!(minDist[i] > 0)) continue;
      acc += minDist[i];
      last = i;
      if (acc > u) return i;
    }
    return last;
  }
  // Every unselected row sits on a pick: any of them, uniformly.
  const left: number[] = [];
  minDist.forEach((v, i) => v !== -Infinity && left.push(i));
  return left[rng.int(left.length)];
}

export async function badgeKmeansppSelect(
  probs: Matrix,
  features: Matrix,
  budget: number,
  rng: Rng,
  opts: GreedyOptions = {},
): Promise<Int32Array> {
  const checks = new InputChecks();
  const space = await pack("badge-raw", probs, features, checks, {
    what: NAMES.pool,
    what2: NAMES.pool2,
    probabilities: true,
  }, opts);
  const t = new Traversal(space, budget, opts);
  try {
    await checks.read();
    t.init();
    for (let k = 0; k < budget; k++) {
      t.force(
        k === 0
          ? await largestGradientRow(probs, features)
          : sampleByDistance(await t.minDistances(), rng),
      );
      t.step();
    }
    return (await t.finish()).picks;
  } finally {
    t.dispose();
    space.dispose();
    checks.dispose();
  }
}
