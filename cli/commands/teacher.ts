/**
 * `akd teacher --dataset D --teacher T [...]`: evaluates a teacher on the test images and caches
 * its logits (content key) for later runs; prints its test accuracy. Takes the `run` keys that
 * shape a teacher (dataset, subsets, CLIP weights, image size, hold-out settings), as flags or
 * from a run's `--config`; CLAP is fitted on a `--shots` few-shot split drawn with `--seed`.
 *
 * `--shard K/N` computes only shard K of N of the teacher's passes over the images in play (its
 * logits, or a refitted teacher's CLIP features) into `<cache>/shards/` and evaluates nothing;
 * `--merge` checks and merges the shards into the cache (al/shards.ts), then evaluates as usual.
 */
import { Command } from "@commander-js/extra-typings";
import {
  CONFIG_HELP,
  flagName,
  loadConfig,
  parseFlagValue,
  type RunConfig,
} from "../../al/config.ts";
import { fewShotSplit } from "../../al/data/splits.ts";
import { openDataset } from "../../al/data/open.ts";
import { experimentSplits } from "../../al/loop/experiment_data.ts";
import { silentProgress } from "../../al/progress.ts";
import { openTeacher } from "../../al/teachers/open.ts";
import { LogitsCache } from "../../al/teachers/cache.ts";
import { parseShard, type Shard, writeShard } from "../../al/shards.ts";
import type { Progress } from "../../al/progress.ts";
import type { RoundTeacher } from "../../al/ports.ts";
import { InputError } from "../../engine/errors.ts";
import { accuracy } from "../../al/train/evaluate.ts";
import { Rng } from "../../engine/rng.ts";
import { backendOption, emit, jsonOption, quietOption, withEngine } from "../common.ts";
import { TerminalProgress } from "../progress.ts";

const TEACHER_KEYS = [
  "dataset",
  "teacher",
  "clip",
  "imageSize",
  "trainSize",
  "testSize",
  "teacherHoldout",
  "teacherSteps",
  "teacherArch",
  "teacherWidth",
  "batchSize",
  "shots",
] as const satisfies readonly (keyof RunConfig)[];

export function teacherCommand() {
  const cmd = new Command("teacher")
    .description("evaluates a teacher on the test images and caches its logits")
    .option("--config <file>", "a run config whose teacher keys to use; flags override it")
    .option("--seed <n>", "seed of the few-shot split CLAP is fitted on", "1")
    .option("--shard <K/N>", "compute only shard K of N of the teacher's passes (no evaluation)")
    .option("--merge", "merge the shards of the teacher's passes into the cache, then evaluate")
    .addOption(backendOption())
    .addOption(jsonOption())
    .addOption(quietOption());
  for (const key of TEACHER_KEYS) cmd.option(`${flagName(key)} <value>`, CONFIG_HELP[key]);
  return cmd.action(async (options) => {
    const opts = options as Record<string, unknown> & {
      backend: "dawn" | "native" | "auto";
      json?: boolean;
      quiet?: boolean;
      seed: string;
      config?: string;
      shard?: string;
      merge?: boolean;
    };
    if (opts.shard !== undefined && opts.merge) {
      throw new InputError("--shard and --merge: one job computes a shard or merges, not both");
    }
    const shard = opts.shard === undefined ? undefined : parseShard("--shard", opts.shard);
    const flags: Partial<Record<keyof RunConfig, unknown>> = {};
    for (const key of TEACHER_KEYS) {
      if (opts[key] !== undefined) flags[key] = parseFlagValue(key, opts[key] as string);
    }
    flags.seeds = parseFlagValue("seeds", opts.seed);
    // A run's config file serves as is (its other keys are checked, then unused).
    const config = await loadConfig(opts.config, flags);
    const progress = opts.quiet ? silentProgress : new TerminalProgress();
    const cache = new LogitsCache();
    const result = await withEngine(opts.backend, async () => {
      const ds = await openDataset(config.dataset);
      const { data, held } = experimentSplits(ds, config);
      const teacher = await openTeacher({ config, ds, data, held, progress, cache });
      try {
        if (shard) return await computeShard(teacher, shard, cache, progress);
        if (opts.merge) {
          for (const p of await passesOf(teacher, progress)) await cache.pass(p, progress, true);
        }
        const rng = Rng.fromSeed(config.seeds[0]);
        const inPlay = data.train.map((i) => data.trainLabels[i]);
        const labeled = fewShotSplit(inPlay, config.shots, rng.stream("split")).labeled
          .map((k) => data.train[k]);
        const logits = await teacher.forRound(
          0,
          labeled,
          undefined,
          rng.stream("round-0").stream("teacher"),
          progress,
        );
        return {
          teacher: teacher.spec,
          key: teacher.key,
          description: teacher.description,
          test: data.test.length,
          accuracy: accuracy(logits.test, data.testLabels, ds.classes.length),
        };
      } finally {
        teacher.dispose?.();
      }
    });
    if ("shard" in result) {
      emit(opts.json, result, () =>
        `${result.teacher} shard ${result.shard}: wrote\n` +
        result.files.join("\n"));
      return;
    }
    emit(
      opts.json,
      result,
      () =>
        `${result.teacher}: test accuracy ${(100 * result.accuracy).toFixed(2)}% on ` +
        `${result.test} images (key ${result.key})\n${result.description}`,
    );
  });
}

async function passesOf(teacher: RoundTeacher, progress: Progress) {
  const passes = await teacher.passes?.(progress);
  if (!passes) throw new InputError(`--teacher ${teacher.spec}: nothing to shard or merge`);
  return passes;
}

/** Writes shard `s` of each of the teacher's passes; the files and what they are of. */
async function computeShard(
  teacher: RoundTeacher,
  s: Shard,
  cache: LogitsCache,
  progress: Progress,
) {
  const files: string[] = [];
  for (const p of await passesOf(teacher, progress)) {
    files.push(await writeShard(p, s, progress, cache.shards));
  }
  return { teacher: teacher.spec, key: teacher.key, shard: `${s.index}/${s.count}`, files };
}
