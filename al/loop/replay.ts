/**
 * `replay`: re-runs every saved selection of a run from its checkpoint (the round's student
 * weights, labeled set and selection RNG state before the picks) and compares the picks with
 * the recorded ones. Selection is deterministic, so any difference is a bug or a changed input.
 */
import { join } from "node:path";
import type { RunConfig } from "../config.ts";
import { Rng } from "../../engine/rng.ts";
import { completedRounds, roundDir } from "./checkpoint.ts";
import type { ExperimentData, Learner, Selector } from "../ports.ts";
import type { Progress } from "../progress.ts";
import { selectStep } from "./selection.ts";

export interface ReplayOutcome {
  /** Selections re-run. */
  checked: number;
  /** One line per selection whose picks differ. */
  mismatches: string[];
}

export async function replaySelections(o: {
  config: RunConfig;
  data: ExperimentData;
  learner: Learner;
  select: Selector;
  progress: Progress;
}): Promise<ReplayOutcome> {
  const { config } = o;
  const out: ReplayOutcome = { checked: 0, mismatches: [] };
  for (const seed of config.seeds) {
    for (const strategy of config.strategies) {
      for (const state of await completedRounds(config.out, seed, strategy, config.rounds)) {
        if (state.result.selected.length === 0 || !state.rng_before) continue;
        const dir = roundDir(config.out, seed, strategy, state.round);
        const student = await o.learner.load(join(dir, state.student));
        try {
          const step = await selectStep({
            data: o.data,
            select: o.select,
            strategy,
            student,
            labeled: Int32Array.from(state.labeled),
            budget: state.result.selected.length,
            rng: Rng.fromState(state.rng_before),
            progress: o.progress,
            label: `replay seed ${seed} ${strategy} round ${state.round}`,
          });
          out.checked++;
          if (step.selected.join(",") !== state.result.selected.join(",")) {
            out.mismatches.push(
              `seed ${seed} ${strategy} round ${state.round}: recorded ` +
                `[${state.result.selected}], replayed [${step.selected}]`,
            );
          }
        } finally {
          student.dispose();
        }
      }
    }
  }
  return out;
}
