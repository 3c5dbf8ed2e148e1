/**
 * Which images an experiment uses. All of it is drawn once with seed 0, so every seed and
 * strategy of a run (and every run with the same settings) sees the same images:
 * - `held`: the teacher's held-out labeled slice (holdout-classifier only), out of play;
 * - `train`: the rest of the train split, or `trainSize` of it at random (pool + initial labels);
 * - `test`: the test split, or `testSize` of it at random.
 */
import { InputError } from "../../engine/errors.ts";
import { Rng } from "../../engine/rng.ts";
import type { RunConfig } from "../config.ts";
import { complement } from "../data/splits.ts";
import type { Dataset } from "../data/image.ts";
import type { ExperimentData } from "../ports.ts";

export interface ExperimentSplits {
  data: ExperimentData;
  /** Train-split indices of the teacher's held-out slice (ascending; empty if none). */
  held: Int32Array;
}

const sorted = (a: Int32Array) => a.slice().sort();

function draw(stream: string, from: Int32Array, k: number | undefined): Int32Array {
  if (k === undefined || k >= from.length) return from;
  const picks = Rng.fromSeed(0).stream(stream).choice(from.length, k);
  return sorted(picks.map((p) => from[p]));
}

export function experimentSplits(
  ds: Dataset,
  config: Pick<RunConfig, "teacher" | "teacherHoldout" | "trainSize" | "testSize" | "shots">,
): ExperimentSplits {
  const { train, test } = ds.splits;
  let held = new Int32Array(0);
  if (config.teacher === "holdout-classifier") {
    if (config.teacherHoldout >= train.length) {
      throw new InputError(
        `teacherHoldout ${config.teacherHoldout} leaves no pool: the train split has ` +
          `${train.length} images`,
      );
    }
    held = sorted(
      Rng.fromSeed(0).stream("teacher-holdout").choice(train.length, config.teacherHoldout),
    );
  }
  const inPlay = draw("train-subset", complement(train.length, held), config.trainSize);
  const testIdx = draw(
    "test-subset",
    Int32Array.from({ length: test.length }, (_, i) => i),
    config.testSize,
  );
  if (testIdx.length === 0) throw new InputError(`dataset ${ds.name}: the test split is empty`);
  if (inPlay.length <= ds.classes.length * config.shots) {
    throw new InputError(
      `${inPlay.length} train images in play cannot hold ${config.shots} shot(s) of ` +
        `${ds.classes.length} classes and a pool`,
    );
  }
  return {
    held,
    data: {
      dataset: ds.name,
      classes: ds.classes,
      trainLabels: train.labels,
      train: inPlay,
      test: testIdx,
      testLabels: testIdx.map((i) => test.labels[i]),
      heldOut: held.length,
    },
  };
}
