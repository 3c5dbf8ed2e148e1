/**
 * One selection step of a round: score the pool and the labeled set with the round's student
 * (eval transform), turn the two heads into p = 0.5·softmax(z_ce) + 0.5·softmax(z_kd), select
 * `budget` pool images, and map the picks back to train-split indices. Shared by the loop and
 * by `replay`.
 */
import type { StrategyName } from "../config.ts";
import type { Rng } from "../../engine/rng.ts";
import { selectionProbs } from "../train/evaluate.ts";
import type { ExperimentData, Predictions, Selector, Student } from "./ports.ts";
import type { Progress } from "./progress.ts";

export interface SelectionOutcome {
  /** Train-split indices, in selection order. */
  selected: number[];
  radiusBefore: number | null;
  radiusAfter: number | null;
  featureRadiusBefore?: number;
  featureRadiusAfter?: number;
  seconds: { score: number; select: number };
}

/** The in-play train indices not in `labeled`, ascending (METHOD.md's `train_u`). */
export function poolOf(data: ExperimentData, labeled: ArrayLike<number>): Int32Array {
  const taken = new Set(Array.from(labeled));
  return data.train.filter((i) => !taken.has(i));
}

const since = (t0: number) => Number(((performance.now() - t0) / 1000).toFixed(3));

export async function selectStep(args: {
  data: ExperimentData;
  select: Selector;
  strategy: StrategyName;
  student: Student;
  labeled: Int32Array;
  budget: number;
  rng: Rng;
  progress: Progress;
  label: string;
  /** Scores already computed for this student and these sets (round 0, shared). */
  scores?: () => Promise<Predictions>;
}): Promise<SelectionOutcome> {
  const { data, labeled } = args;
  const C = data.classes.length;
  const pool = poolOf(data, labeled);
  let t0 = performance.now();
  const p = await (args.scores?.() ??
    args.student.predict(
      "train",
      Int32Array.from([...pool, ...labeled]),
      args.progress,
      args.label,
    ));
  const score = since(t0);
  t0 = performance.now();
  const probs = selectionProbs(p.ce, p.kd, C);
  const n = pool.length;
  const sel = await args.select(
    args.strategy,
    {
      classes: C,
      dim: p.dim,
      probs: probs.subarray(0, n * C),
      features: p.features.subarray(0, n * p.dim),
      labeledProbs: probs.subarray(n * C),
      labeledFeatures: p.features.subarray(n * p.dim),
      labeledLabels: labeled.map((i) => data.trainLabels[i]),
    },
    Math.min(args.budget, n),
    args.rng,
  );
  return {
    selected: Array.from(sel.picks, (k) => pool[k]),
    radiusBefore: sel.radiusBefore,
    radiusAfter: sel.radiusAfter,
    featureRadiusBefore: sel.featureRadiusBefore,
    featureRadiusAfter: sel.featureRadiusAfter,
    seconds: { score, select: since(t0) },
  };
}
