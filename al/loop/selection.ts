/**
 * One selection step of a round: score the pool and the labeled set with the round's student
 * (eval transform), turn the two heads into p = 0.5·softmax(z_ce) + 0.5·softmax(z_kd) (a plain
 * arm's student has only its CE head: p = softmax(z_ce)), select `budget` pool images, and map
 * the picks back to train-split indices. The selection's inputs are saved beside the round's
 * checkpoint (a few kilobytes per round), so `replay` re-checks every selection without the
 * round's student weights.
 */
import { join } from "node:path";
import type { StrategyName } from "../config.ts";
import type { Rng } from "../../engine/rng.ts";
import { type HostTensor, loadSafetensors, saveSafetensors } from "../../engine/safetensors.ts";
import { InputError } from "../../engine/errors.ts";
import { strategy as strategyInfo } from "../strategies/mod.ts";
import { interpolatedProbs, selectionProbs } from "../train/evaluate.ts";
import type { ExperimentData, Predictions, SelectionInput, Selector } from "../ports.ts";

export interface SelectionOutcome {
  /** Train-split indices, in selection order. */
  selected: number[];
  radiusBefore: number | null;
  radiusAfter: number | null;
  featureRadiusBefore?: number;
  featureRadiusAfter?: number;
  seconds: { score: number; select: number };
  /** What the strategy was given. */
  inputs: SelectionInput;
}

export const SELECTION_FILE = "selection.safetensors";

/** The in-play train indices not in `labeled`, ascending (docs/method.md's `train_u`). */
export function poolOf(data: ExperimentData, labeled: ArrayLike<number>): Int32Array {
  const taken = new Set(Array.from(labeled));
  return data.train.filter((i) => !taken.has(i));
}

/** The images a round's student scores: the pool, then the labeled set. */
export function scoreIndices(data: ExperimentData, labeled: Int32Array): Int32Array {
  return Int32Array.from([...poolOf(data, labeled), ...labeled]);
}

const since = (t0: number) => Number(((performance.now() - t0) / 1000).toFixed(3));

export async function selectStep(args: {
  data: ExperimentData;
  select: Selector;
  strategy: StrategyName;
  /** False for a plain (no-teacher) arm: p is the CE head's alone. */
  distill: boolean;
  labeled: Int32Array;
  budget: number;
  rng: Rng;
  /** The student's scores of the pool then the labeled set (scoreIndices' order). */
  scores: () => Promise<Predictions>;
}): Promise<SelectionOutcome> {
  const { data, labeled } = args;
  const C = data.classes.length;
  const pool = poolOf(data, labeled);
  let t0 = performance.now();
  const p = await args.scores();
  const score = since(t0);
  t0 = performance.now();
  const probs = args.distill
    ? selectionProbs(p.ce, p.kd, C)
    : interpolatedProbs(p.ce, p.kd, C, 0, 1);
  const n = pool.length;
  const inputs: SelectionInput = {
    classes: C,
    dim: p.dim,
    probs: probs.subarray(0, n * C),
    features: p.features.subarray(0, n * p.dim),
    labeledProbs: probs.subarray(n * C),
    labeledFeatures: p.features.subarray(n * p.dim),
    labeledLabels: labeled.map((i) => data.trainLabels[i]),
  };
  const sel = await args.select(args.strategy, inputs, Math.min(args.budget, n), args.rng);
  return {
    selected: Array.from(sel.picks, (k) => pool[k]),
    radiusBefore: sel.radiusBefore,
    radiusAfter: sel.radiusAfter,
    featureRadiusBefore: sel.featureRadiusBefore,
    featureRadiusAfter: sel.featureRadiusAfter,
    seconds: { score, select: since(t0) },
    inputs,
  };
}

/**
 * Saves what `strategy` read of `inputs` into `dir`: the probabilities always (they also give
 * the coverage radius), the features when the strategy reads them.
 */
export async function saveSelectionInputs(
  dir: string,
  strategy: StrategyName,
  inputs: SelectionInput,
): Promise<void> {
  const { classes: C, dim: D } = inputs;
  const n = inputs.probs.length / C, m = inputs.labeledLabels.length;
  const f32 = (data: Float32Array, shape: number[]): HostTensor => ({ dtype: "f32", shape, data });
  const tensors: Record<string, HostTensor> = {
    probs: f32(inputs.probs, [n, C]),
    labeled_probs: f32(inputs.labeledProbs, [m, C]),
    labeled_labels: { dtype: "i32", shape: [m], data: inputs.labeledLabels },
  };
  if (strategyInfo(strategy).needs.features) {
    tensors.features = f32(inputs.features, [n, D]);
    tensors.labeled_features = f32(inputs.labeledFeatures, [m, D]);
  }
  await Deno.mkdir(dir, { recursive: true });
  await saveSafetensors(join(dir, SELECTION_FILE), tensors);
}

/** The inputs `saveSelectionInputs` wrote into `dir` (features empty when not saved). */
export async function loadSelectionInputs(dir: string): Promise<SelectionInput> {
  const path = join(dir, SELECTION_FILE);
  const { tensors } = await loadSafetensors(path);
  const get = (name: string, required = true) => {
    const t = tensors.get(name);
    if (!t && required) throw new InputError(`${path}: no tensor "${name}"`);
    return t;
  };
  const probs = get("probs")!;
  const features = get("features", false);
  return {
    classes: probs.shape[1],
    dim: features?.shape[1] ?? 0,
    probs: probs.data as Float32Array,
    features: (features?.data ?? new Float32Array(0)) as Float32Array,
    labeledProbs: get("labeled_probs")!.data as Float32Array,
    labeledFeatures: (get("labeled_features", false)?.data ?? new Float32Array(0)) as Float32Array,
    labeledLabels: get("labeled_labels")!.data as Int32Array,
  };
}
