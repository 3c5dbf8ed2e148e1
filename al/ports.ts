/**
 * What the AL loop needs from the rest of the system, as small interfaces: the data in play, a
 * teacher giving logits per round, a learner that trains fresh students, and a selector. The
 * CLI wires the real ones (GPU student, CLIP or classifier teacher, al/strategies); tests can
 * wire tiny ones.
 */
import type { StrategyName } from "./config.ts";
import type { Rng } from "../engine/rng.ts";
import type { Tensor } from "../engine/tensor.ts";
import type { ModelInput } from "./train/inputs.ts";
import type { Progress } from "./progress.ts";
import type { ImagePass } from "./shards.ts";

export interface ExperimentData {
  dataset: string;
  classes: readonly string[];
  /** Labels of the whole train split (indices below are into it). */
  trainLabels: Int32Array;
  /** Train-split indices in play (initial labeled set + pool), ascending. */
  train: Int32Array;
  /** Test-split indices used, ascending, and their labels. */
  test: Int32Array;
  testLabels: Int32Array;
  /** Train images held out of play (e.g. the demo teacher's slice). */
  heldOut: number;
}

/**
 * What the student's KD targets come from (docs/method.md §1 "Teacher input"): the teacher run on
 * every step's augmented batches, or its logits of the un-augmented images, computed once.
 */
export type TeacherInput = "augmented" | "cached";

/** A teacher that maps pixels to logits on the GPU, run on each training step's batches. */
export interface PixelTeacher {
  readonly input: ModelInput;
  /** x [B, 3, S, S] → logits [B, C]; called under noGrad, inside the caller's scope. */
  logits(x: Tensor): Tensor;
}

/** Teacher logits: `train` rows follow `ExperimentData.train`, `test` rows `ExperimentData.test`. */
export interface TeacherLogits {
  train: Float32Array;
  test: Float32Array;
  /**
   * With `augmented` teacher input: the round's teacher as a model, for the per-step forward. The
   * teacher owns it; it stays valid until its next `forRound` or `dispose`.
   */
  pixels?: PixelTeacher;
}

export interface RoundTeacher {
  readonly spec: string;
  /** Content key of the teacher (weights, data, transform): checkpoints record it. */
  readonly key: string;
  readonly description: string;
  /** What training distils from; `cached` when absent. `augmented`: `forRound` gives `pixels`. */
  readonly input?: TeacherInput;
  /**
   * Logits for round `round` whose labeled set is `labeled` (`previous`: the last round's, for
   * CLAP's official lag), drawing from `rng` (the round's "teacher" stream). Fixed teachers
   * ignore all three.
   */
  forRound(
    round: number,
    labeled: Int32Array,
    previous: Int32Array | undefined,
    rng: Rng,
    progress: Progress,
  ): Promise<TeacherLogits>;
  /**
   * The per-image passes over the images in play that the teacher's logits rest on (a fixed
   * teacher's logits, a refitted one's CLIP features), which `akd teacher --shard` computes in
   * parts; absent when there is nothing to compute (`logits:FILE`).
   */
  passes?(progress: Progress): Promise<ImagePass[]>;
  /** Frees what the teacher holds on the device (CLAP's CLIP). */
  dispose?(): void;
}

/** A student's outputs on some images: logits of both heads [n, C] and features [n, D]. */
export interface Predictions {
  ce: Float32Array;
  kd: Float32Array;
  features: Float32Array;
  dim: number;
}

export interface Student {
  /** D: the width of `predict`'s features. */
  readonly dim: number;
  predict(
    split: "train" | "test",
    indices: Int32Array,
    progress: Progress,
    label: string,
  ): Promise<Predictions>;
  save(path: string): Promise<void>;
  dispose(): void;
}

export interface TrainArgs {
  labeled: Int32Array;
  unlabeled: Int32Array;
  /** Teacher logits, rows following `ExperimentData.train`; absent for a plain (no-teacher) arm. */
  teacher?: Float32Array;
  /** With `augmented` teacher input: the teacher to run on every step's batches instead. */
  teacherPixels?: PixelTeacher;
  rng: Rng;
  progress: Progress;
  label: string;
}

export interface Learner {
  /** A fresh student trained on `labeled` + `unlabeled` (docs/method.md §1). */
  train(args: TrainArgs): Promise<Student>;
  /** A student saved by `Student.save`. */
  load(path: string): Promise<Student>;
}

export interface SelectionInput {
  classes: number;
  dim: number;
  /** Pool rows [N, C] / [N, D]; labeled rows [M, C] / [M, D]. */
  probs: Float32Array;
  features: Float32Array;
  labeledProbs: Float32Array;
  labeledFeatures: Float32Array;
  labeledLabels: Int32Array;
}

export interface Selection {
  /** Positions into the pool rows, in selection order. */
  picks: Int32Array;
  /** Probability-space coverage radius before / after the picks. */
  radiusBefore: number | null;
  radiusAfter: number | null;
  /** `coreset` only: its feature-space radius max_u min_c (1 − cos(f(u), f(c))) before / after. */
  featureRadiusBefore?: number;
  featureRadiusAfter?: number;
}

export type Selector = (
  strategy: StrategyName,
  input: SelectionInput,
  budget: number,
  rng: Rng,
) => Promise<Selection>;
