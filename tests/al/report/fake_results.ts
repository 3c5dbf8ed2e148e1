/** Hand-made result rows for report tests: 2 strategies × 2 seeds × 3 rounds. */
import type { RoundResult } from "../../../al/report/types.ts";

export function row(strategy: string, seed: number, round: number, accuracy: number): RoundResult {
  return {
    strategy,
    seed,
    round,
    labeled: 10 + 10 * round,
    pool: 500 - 10 * round,
    accuracy,
    accuracy_ce: accuracy - 0.01,
    accuracy_kd: accuracy + 0.01,
    teacher_accuracy: 0.8,
    selected: round < 2 ? [round, 100 + seed] : [],
    class_counts: round < 2 ? [1, 1, 0] : [0, 0, 0],
    coverage_radius: round < 2 ? 0.5 : null,
    coverage_radius_after: round < 2 ? 0.4 : null,
    seconds: { train: 1.5, select: 0.25 },
  };
}

/** random: 0.5/0.6/0.7 (seed 1), 0.4/0.5/0.6 (seed 2); pcoreset 0.1 higher at rounds 1-2. */
export function fakeResults(): RoundResult[] {
  return [
    row("random", 1, 0, 0.5),
    row("random", 1, 1, 0.6),
    row("random", 1, 2, 0.7),
    row("random", 2, 0, 0.4),
    row("random", 2, 1, 0.5),
    row("random", 2, 2, 0.6),
    row("pcoreset", 1, 0, 0.5),
    row("pcoreset", 1, 1, 0.7),
    row("pcoreset", 1, 2, 0.8),
    row("pcoreset", 2, 0, 0.4),
    row("pcoreset", 2, 1, 0.6),
    row("pcoreset", 2, 2, 0.6),
  ];
}
