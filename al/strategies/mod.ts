/**
 * Selection strategies behind one interface, `select(pool, labeled, budget, rng) -> indices`,
 * with the input checks every caller gets: a known strategy, the matrices it reads with
 * agreeing shapes, a budget within the pool, finite values and probability rows (InputError).
 */
import { InputError } from "../../engine/errors.ts";
import type { Rng } from "../../engine/rng.ts";
import { badgeKmeansppSelect, badgeSelect } from "./badge.ts";
import { classBalancedSelect } from "./classbalanced.ts";
import { coresetSelect } from "./coreset.ts";
import { entropySelect } from "./entropy.ts";
import type { GreedyOptions } from "./greedy.ts";
import { checkRows, dims, hostData, rowArgmax } from "./matrix.ts";
import { pcoresetSelect } from "./pcoreset.ts";
import { randomSelect } from "./random.ts";
import {
  type Labeled,
  type Matrix,
  type Pool,
  type Strategy,
  STRATEGY_NAMES,
  type StrategyName,
} from "./types.ts";

export type { Labeled, Matrix, Pool, RowStream, Strategy, StrategyName } from "./types.ts";
export { STRATEGY_NAMES } from "./types.ts";
export { coverageRadius, pcoresetSelect } from "./pcoreset.ts";
export { coresetSelect } from "./coreset.ts";
export { badgeSelect } from "./badge.ts";
export type { GreedyOptions, GreedySelection } from "./greedy.ts";

const PROBS = { probs: true, features: false };
const FEATURES = { probs: false, features: true };
const BOTH = { probs: true, features: true };

/** Host probabilities, checked (finite, probability rows). */
async function hostProbs(m: Matrix, what: string): Promise<Float32Array> {
  const data = await hostData(m);
  checkRows(data, m.shape[1], what, true);
  return data;
}

const STRATEGIES: Record<StrategyName, Strategy> = {
  random: {
    name: "random",
    onGpu: false,
    needs: { probs: false, features: false },
    select: (pool, _labeled, budget, rng) =>
      Promise.resolve(randomSelect(poolRows(pool), budget, rng)),
  },
  entropy: {
    name: "entropy",
    onGpu: false,
    needs: PROBS,
    select: async (pool, _labeled, budget) =>
      entropySelect(await hostProbs(pool.probs!, "probs"), pool.probs!.shape[1], budget),
  },
  classbalanced: {
    name: "classbalanced",
    onGpu: false,
    needs: PROBS,
    select: async (pool, labeled, budget, rng) => {
      const c = pool.probs!.shape[1];
      const predicted = rowArgmax(await hostProbs(pool.probs!, "probs"), c);
      const classes = labeled.labels ??
        (labeled.probs
          ? rowArgmax(await hostProbs(labeled.probs, "labeled_probs"), c)
          : new Int32Array(0));
      return classBalancedSelect(predicted, classes, budget, rng);
    },
  },
  pcoreset: {
    name: "pcoreset",
    onGpu: true,
    needs: PROBS,
    select: async (pool, labeled, budget, _rng, opts?: GreedyOptions) =>
      (await pcoresetSelect(pool.probs!, labeled.probs, budget, opts)).indices,
  },
  coreset: {
    name: "coreset",
    onGpu: true,
    needs: FEATURES,
    select: async (pool, labeled, budget, _rng, opts?: GreedyOptions) =>
      (await coresetSelect(pool.features!, labeled.features, budget, opts)).indices,
  },
  badge: {
    name: "badge",
    onGpu: true,
    needs: BOTH,
    select: async (pool, _labeled, budget, _rng, opts?: GreedyOptions) =>
      (await badgeSelect(pool.probs!, pool.features!, budget, opts)).indices,
  },
  "badge-kmeanspp": {
    name: "badge-kmeanspp",
    onGpu: true,
    needs: BOTH,
    select: (pool, _labeled, budget, rng, opts?: GreedyOptions) =>
      badgeKmeansppSelect(pool.probs!, pool.features!, budget, rng, opts),
  },
};

/** The strategy called `name`; an unknown name is an InputError listing the known ones. */
export function strategy(name: string): Strategy {
  if (!(STRATEGY_NAMES as readonly string[]).includes(name)) {
    throw new InputError(`unknown strategy "${name}" (one of: ${STRATEGY_NAMES.join(", ")})`);
  }
  return STRATEGIES[name as StrategyName];
}

function poolRows(pool: Pool): number {
  const m = pool.probs ?? pool.features;
  if (!m) throw new InputError("pool: needs probs or features");
  return m.shape[0];
}

/** Checks what `s` reads of the pool and the labeled set; returns the pool size. */
export function checkInputs(s: Strategy, pool: Pool, labeled: Labeled, budget: number): number {
  for (const key of ["probs", "features"] as const) {
    if (s.needs[key] && !pool[key]) throw new InputError(`${s.name} needs pool ${key}`);
  }
  const rows = new Map<string, number>();
  const cols: Record<string, number> = {};
  for (const key of ["probs", "features"] as const) {
    const m = pool[key];
    if (!m) continue;
    const [r, c] = dims(m, key);
    rows.set(key, r);
    cols[key] = c;
    const l = labeled[key];
    if (!l) continue;
    const [, lc] = dims(l, `labeled_${key}`);
    if (lc !== c) {
      throw new InputError(`labeled_${key}: ${lc} columns, but pool ${key} has ${c}`);
    }
  }
  if (labeled.probs && labeled.features && labeled.probs.shape[0] !== labeled.features.shape[0]) {
    throw new InputError(
      `labeled_features: ${labeled.features.shape[0]} rows, but labeled_probs has ` +
        `${labeled.probs.shape[0]}`,
    );
  }
  if (rows.size === 2 && rows.get("probs") !== rows.get("features")) {
    throw new InputError(
      `features: ${rows.get("features")} rows, but probs has ${rows.get("probs")}`,
    );
  }
  if (rows.size === 0) throw new InputError("pool: needs probs or features");
  const n = [...rows.values()][0];
  if (!Number.isSafeInteger(budget) || budget < 0) {
    throw new InputError(`budget must be a non-negative integer, got ${budget}`);
  }
  if (budget > n) throw new InputError(`budget ${budget} is larger than the pool (${n} rows)`);
  return n;
}

/**
 * One selection step: `budget` distinct pool rows in selection order. GPU strategies (`onGpu`)
 * need a current engine; `opts` tunes their packing.
 */
export async function select(
  name: string,
  pool: Pool,
  labeled: Labeled,
  budget: number,
  rng: Rng,
  opts?: GreedyOptions,
): Promise<Int32Array> {
  const s = strategy(name);
  checkInputs(s, pool, labeled, budget);
  if (budget === 0) return new Int32Array(0);
  return await s.select(pool, labeled, budget, rng, opts);
}
