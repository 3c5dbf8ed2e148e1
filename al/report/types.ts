/** The shapes of `report.json` (docs/cli.md): one result row per strategy × seed × round. */
import type { TeacherInput } from "../ports.ts";

/** Wall seconds per phase of a round (teacher, train, eval, score, select). */
export type PhaseSeconds = Record<string, number>;

export interface RoundResult {
  strategy: string;
  seed: number;
  round: number;
  /** |L| the round's student was trained on. */
  labeled: number;
  /** |U| before this round's selection. */
  pool: number;
  /** Test accuracy of the interpolated prediction (docs/method.md §1, α/β). */
  accuracy: number;
  accuracy_ce: number;
  /** Null for a plain (no-teacher) arm, whose KD head is unused. */
  accuracy_kd: number | null;
  /** Test accuracy of the teacher this round's student was distilled from. */
  teacher_accuracy: number | null;
  /** Train-split indices chosen at the end of this round (empty in the last round). */
  selected: number[];
  /** How many of `selected` fall in each class. */
  class_counts: number[];
  /** max_u min_c ‖p(u) − p(c)‖ over the pool before / after selection (null in the last round). */
  coverage_radius: number | null;
  coverage_radius_after: number | null;
  /** `coreset`: max_u min_c (1 − cos(f(u), f(c))) over the student's features, before / after. */
  feature_coverage_radius?: number;
  feature_coverage_radius_after?: number;
  seconds: PhaseSeconds;
}

export interface Environment {
  deno: string;
  backend: string;
  adapter: string;
  os: string;
}

export interface TeacherInfo {
  spec: string;
  /** The content key its cached logits are stored under. */
  key: string;
  /** Test accuracy (of the round-0 fit for CLAP); null with no teacher. */
  accuracy: number | null;
  /** What the teacher is, in words (e.g. how the demo's classifier was trained). */
  description: string;
  /**
   * What training distilled from (docs/method.md §1 "Teacher input"): `augmented` (the teacher's
   * forward on each step's crops) or `cached` (its logits of the un-augmented images); absent with
   * no teacher.
   */
  input?: TeacherInput;
  /** Wall seconds to open the teacher (loading, or training the hold-out classifier). */
  seconds?: number;
}

export interface DataInfo {
  dataset: string;
  classes: string[];
  /** Images of the train split used (the pool plus the initial labeled set). */
  train: number;
  test: number;
  /** Train images held out of the pool (e.g. to train the demo teacher). */
  held_out: number;
}

/** Paired per-seed differences of the AUC, their mean ± std, and how many are positive. */
export interface PairedDifference {
  mean: number;
  std: number;
  per_seed: number[];
  wins: number;
}

export interface StrategySummary {
  strategy: string;
  /** Area under the learning curve: mean accuracy over rounds, per seed, then mean ± std. */
  auc_mean: number;
  auc_std: number;
  auc_per_seed: number[];
  /** Paired per-seed AUC difference against `random` of the same kind (absent without one). */
  vs_random?: PairedDifference;
  /** Paired per-seed AUC difference against `<strategy>-no-teacher` (absent without that arm). */
  kd_lift?: PairedDifference;
}

export interface Report {
  config: Record<string, unknown>;
  environment: Environment;
  teacher: TeacherInfo;
  data: DataInfo;
  results: RoundResult[];
  summary: StrategySummary[];
}
