/**
 * The arms of a run: each strategy distilled from the teacher (ActiveKD), and each `baselines`
 * strategy again as plain active learning with no teacher (CE on the labels only, the KD head
 * unused), named `<strategy>-no-teacher`. With `teacher: none` every strategy is a plain arm
 * under its own name. An arm's name keys its checkpoints and its report rows; its selection
 * randomness comes from its strategy's stream, so a plain arm and a distilled arm of the same
 * strategy see the same random draws (random picks the same images in both).
 */
import type { RunConfig, StrategyName } from "./config.ts";

export interface Arm {
  name: string;
  strategy: StrategyName;
  /** Trained with the teacher (ActiveKD) or without (plain active learning). */
  distill: boolean;
}

export const NO_TEACHER_SUFFIX = "-no-teacher";

export function armsOf(config: Pick<RunConfig, "teacher" | "strategies" | "baselines">): Arm[] {
  if (config.teacher === "none") {
    return config.strategies.map((s) => ({ name: s, strategy: s, distill: false }));
  }
  return [
    ...config.strategies.map((s) => ({ name: s, strategy: s, distill: true })),
    ...config.baselines.map((s) => ({ name: s + NO_TEACHER_SUFFIX, strategy: s, distill: false })),
  ];
}
