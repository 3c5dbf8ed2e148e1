/**
 * Shared by the fault tests (fault_*_test.ts): the tiny `akd run` experiment of the CLI tests
 * (tests/cli/commands/tiny_run.ts: MLP student, 8×8 images, 2 strategies × 4 rounds), run in
 * this process on the current engine, and what a fault may leave behind.
 */
import { join } from "node:path";
import { resolveConfig, type RunConfig } from "../../../al/config.ts";
import { type ExperimentOptions, runExperiment } from "../../../al/loop/experiment.ts";
import { strategySelector } from "../../../al/loop/select.ts";
import { writeTinyRun } from "../../cli/commands/tiny_run.ts";
import { withTempDir } from "../../temp_dir.ts";

export { timeless } from "../../cli/commands/tiny_run.ts";

/** The tiny run's config (dataset and teacher written under `dir`), writing to `out`. */
/**
 * The tiny run, keeping every student's weights: the fault tests check that a failure leaves
 * earlier checkpoints (weights included) untouched, and name the phase a kill hit by them.
 */
export async function tinyConfig(dir: string, out: string): Promise<RunConfig> {
  return resolveConfig({ ...(await writeTinyRun(dir)), keepCheckpoints: true, out }, {}, "test");
}

/** `runExperiment` with the real strategies, as `akd run` wires it. */
export function experiment(config: RunConfig, o: Partial<ExperimentOptions> = {}) {
  return runExperiment(config, { select: strategySelector(), ...o });
}

/** The temporary files of interrupted atomic writes under `dir` (relative paths). */
export async function tempFiles(dir: string, prefix = ""): Promise<string[]> {
  const found: string[] = [];
  for await (const e of Deno.readDir(join(dir, prefix))) {
    const rel = join(prefix, e.name);
    if (e.isDirectory) found.push(...(await tempFiles(dir, rel)));
    else if (e.name.endsWith(".tmp")) found.push(rel);
  }
  return found;
}

/** A temporary folder (prefix "akd-fault-"), removed after `fn`. */
export function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  return withTempDir(fn, "akd-fault-");
}
