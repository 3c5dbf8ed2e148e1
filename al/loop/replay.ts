/**
 * `replay`: re-runs every saved selection of a run from its checkpoint (the selection's inputs
 * saved beside the round, and the selection RNG state before the picks) and compares the picks
 * with the recorded ones. Selection is deterministic, so any difference is a bug or a changed
 * input.
 */
import type { RunConfig } from "../config.ts";
import { Rng } from "../../engine/rng.ts";
import { armsOf } from "../arms.ts";
import { completedRounds, roundDir } from "./checkpoint.ts";
import type { ExperimentData, Selector } from "../ports.ts";
import type { Progress } from "../progress.ts";
import { loadSelectionInputs, poolOf } from "./selection.ts";

export interface ReplayOutcome {
  /** Selections re-run. */
  checked: number;
  /** One line per selection whose picks differ. */
  mismatches: string[];
}

export async function replaySelections(o: {
  config: RunConfig;
  data: ExperimentData;
  select: Selector;
  progress: Progress;
}): Promise<ReplayOutcome> {
  const { config } = o;
  const out: ReplayOutcome = { checked: 0, mismatches: [] };
  for (const seed of config.seeds) {
    for (const arm of armsOf(config)) {
      for (const state of await completedRounds(config.out, seed, arm.name, config.rounds)) {
        if (state.result.selected.length === 0 || !state.rng_before) continue;
        const inputs = await loadSelectionInputs(roundDir(config.out, seed, arm.name, state.round));
        const pool = poolOf(o.data, state.labeled);
        const sel = await o.select(
          arm.strategy,
          inputs,
          state.result.selected.length,
          Rng.fromState(state.rng_before),
        );
        const replayed = Array.from(sel.picks, (k) => pool[k]);
        out.checked++;
        o.progress.log(
          `replay seed ${seed} ${arm.name} round ${state.round}: ${replayed.length} picks`,
        );
        if (replayed.join(",") !== state.result.selected.join(",")) {
          out.mismatches.push(
            `seed ${seed} ${arm.name} round ${state.round}: recorded ` +
              `[${state.result.selected}], replayed [${replayed}]`,
          );
        }
      }
    }
  }
  return out;
}
