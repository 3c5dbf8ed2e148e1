/**
 * `akd run --config C.json [flags]`: a whole ActiveKD experiment (several strategies on the same
 * seeds). Every config key is also a flag (`weightDecay` ↔ `--weight-decay`); flags win. Writes
 * `<out>/config.json` first, a checkpoint after every round, then report.json, report.csv and
 * curve.svg; prints the per-round table with AUC and the paired difference against random.
 * `--resume` continues an interrupted run (its saved config is the base when no --config is
 * given); a finished run is skipped unless `--force`. `--replay` re-runs every saved selection
 * from its checkpoint and checks the picks are the recorded ones. `--score-shards N` leaves the
 * pool's scoring to `akd score` jobs (al/loop/scores.ts).
 */
import { join } from "node:path";
import { Command } from "@commander-js/extra-typings";
import {
  CONFIG_HELP,
  CONFIG_KEYS,
  FLAG_KINDS,
  flagName,
  loadConfig,
  parseFlagValue,
  resolveConfig,
  type RunConfig,
} from "../../al/config.ts";
import { replayExperiment, runExperiment, TEACHER_INPUT_WORDS } from "../../al/loop/experiment.ts";
import { savedConfig } from "../../al/loop/outdir.ts";
import { strategySelector } from "../../al/loop/select.ts";
import { silentProgress } from "../../al/progress.ts";
import { summaryTable } from "../../al/report/summary.ts";
import type { Report } from "../../al/report/types.ts";
import type { BackendChoice } from "../../engine/device.ts";
import { backendOption, emit, intArg, jsonOption, quietOption, withEngine } from "../common.ts";
import { shardsDir } from "../../al/shards.ts";
import { TerminalProgress } from "../progress.ts";

export interface RunFlags {
  /** `--score-shards N` (run only): the pool is scored by N `akd score` jobs. */
  scoreShards?: number;
  resume?: boolean;
  replay?: boolean;
  force?: boolean;
  backend: BackendChoice;
  json?: boolean;
  quiet?: boolean;
}

/** Runs a resolved config and prints the outcome (shared by `run` and `demo`). */
export async function executeRun(
  config: RunConfig,
  flags: RunFlags,
  title?: string,
  preface?: string,
): Promise<Report> {
  const progress = flags.quiet ? silentProgress : new TerminalProgress();
  if (preface && !flags.quiet) console.error(preface);
  const { report, skipped } = await withEngine(flags.backend, () =>
    runExperiment(config, {
      resume: flags.resume,
      force: flags.force,
      progress,
      select: strategySelector(),
      title,
      scoreShards: flags.scoreShards === undefined
        ? undefined
        : { count: flags.scoreShards, dir: shardsDir() },
    }));
  if (skipped && !flags.quiet) {
    console.error(`${config.out}: this run has finished already (--force to run it again)`);
  }
  if (flags.json) {
    console.log(JSON.stringify(report, null, 2));
  } else {
    const t = report.teacher;
    console.log(
      t.accuracy === null
        ? "no teacher: plain active learning"
        : `teacher ${t.spec}: test accuracy ${(100 * t.accuracy).toFixed(1)}% — ${t.description}` +
          `\nteacher input: ${t.input ?? "cached"} (${TEACHER_INPUT_WORDS[t.input ?? "cached"]})`,
    );
    console.log(summaryTable(report.results, report.summary));
    console.log(
      `wrote ${
        ["report.json", "report.csv", "curve.svg"].map((f) => join(config.out, f)).join(", ")
      }`,
    );
  }
  return report;
}

/** `--replay`: exit 1 (a runtime failure) when any saved selection replays differently. */
async function executeReplay(config: RunConfig, flags: RunFlags): Promise<void> {
  const progress = flags.quiet ? silentProgress : new TerminalProgress();
  const outcome = await withEngine(
    flags.backend,
    () => replayExperiment(config, { select: strategySelector(), progress }),
  );
  emit(flags.json, outcome, () =>
    `replayed ${outcome.checked} selections from ${config.out}: ` +
    (outcome.mismatches.length ? `${outcome.mismatches.length} differ` : "all identical"));
  if (outcome.mismatches.length) {
    throw new Error(`replay: ${outcome.mismatches.join("; ")}`);
  }
}

export function runCommand() {
  const cmd = new Command("run")
    .description(
      "a whole ActiveKD experiment: strategies × seeds × rounds; writes report.json, " +
        "report.csv, curve.svg and per-round checkpoints to --out",
    )
    .option("--config <file>", "JSON config with the keys below in camelCase; flags override it")
    .option("--resume", "continue the interrupted run in --out")
    .option("--force", "run again even if --out holds a finished or unfinished run")
    .option("--replay", "re-run every saved selection of the run in --out and compare the picks")
    .option(
      "--score-shards <n>",
      "score the pool in n `akd score` jobs: stop (exit 3) at each scoring step until their " +
        "shards are there; give it again on every resume",
      intArg("--score-shards", 1),
    )
    .addOption(backendOption())
    .addOption(jsonOption())
    .addOption(quietOption());
  addConfigOptions(cmd);
  return cmd.action(async (options) => {
    const opts = options as Record<string, unknown> & RunFlags & { config?: string };
    const config = await configFromOptions(opts, opts.resume || opts.replay);
    if (opts.replay) await executeReplay(config, opts);
    else await executeRun(config, opts);
  });
}

/** One flag per config key (`--weight-decay <value>`, `--tip-lag`), shared by run and plan. */
export function addConfigOptions(cmd: { option(flag: string, help: string): unknown }): void {
  for (const key of CONFIG_KEYS) {
    const flag = FLAG_KINDS[key] === "bool" ? flagName(key) : `${flagName(key)} <value>`;
    cmd.option(flag, CONFIG_HELP[key]);
  }
}

/**
 * The config from `--config` and the key flags (flags win); with `savedBase` and no
 * `--config`, the saved config of the run in `--out` is the base (resume, replay).
 */
export async function configFromOptions(
  opts: Record<string, unknown> & { config?: string },
  savedBase = false,
): Promise<RunConfig> {
  const flags: Partial<Record<keyof RunConfig, unknown>> = {};
  for (const key of CONFIG_KEYS) {
    const v = opts[key];
    if (v !== undefined) flags[key] = parseFlagValue(key, v as string | boolean);
  }
  if (opts.config !== undefined) return await loadConfig(opts.config, flags);
  if (savedBase) {
    const out = (flags.out as string | undefined) ?? resolveConfig({}).out;
    const saved = await savedConfig(out);
    return resolveConfig(saved ?? {}, flags, join(out, "config.json"));
  }
  return resolveConfig(undefined, flags, "flags");
}
