/**
 * `akd score --request R --shard K/N`: one job of a round's sharded pool scoring. R is the
 * request `akd run --score-shards N` left beside the round's student (al/loop/scores.ts); the
 * job opens the run's dataset and student as the run does, scores shard K of the images, and
 * writes it into `<cache>/shards/` for the resumed run to merge.
 */
import { Command } from "@commander-js/extra-typings";
import { loadConfig } from "../../al/config.ts";
import { openDataset } from "../../al/data/open.ts";
import { gpuLearner } from "../../al/loop/experiment.ts";
import { experimentSplits } from "../../al/loop/experiment_data.ts";
import { readScoreRequest, scoresPass } from "../../al/loop/scores.ts";
import { silentProgress } from "../../al/progress.ts";
import { parseShard, shardsDir, writeShard } from "../../al/shards.ts";
import { InputError } from "../../engine/errors.ts";
import { backendOption, emit, jsonOption, quietOption, withEngine } from "../common.ts";
import { TerminalProgress } from "../progress.ts";

export function scoreCommand() {
  return new Command("score")
    .description("scores one shard of a round's pool for `run --score-shards`")
    .requiredOption("--request <file>", "the score-request.safetensors a paused run wrote")
    .requiredOption("--shard <K/N>", "which shard: K of N (N as the run's --score-shards)")
    .addOption(backendOption())
    .addOption(jsonOption())
    .addOption(quietOption())
    .action(async (opts) => {
      const shard = parseShard("--shard", opts.shard);
      const request = await readScoreRequest(opts.request);
      if (shard.count !== request.count) {
        throw new InputError(
          `--shard ${opts.shard}: the run asked for ${request.count} shards (${opts.request})`,
        );
      }
      const config = await loadConfig(request.config);
      const progress = opts.quiet ? silentProgress : new TerminalProgress();
      const file = await withEngine(opts.backend, async () => {
        const ds = await openDataset(config.dataset);
        const { data } = experimentSplits(ds, config);
        const student = await gpuLearner(config, ds, data).load(request.student);
        try {
          const label = `score ${request.student} shard ${opts.shard}`;
          const pass = await scoresPass(
            student,
            request.student,
            data,
            config.imageSize,
            request.indices,
            label,
          );
          if (pass.key !== request.key) {
            throw new InputError(
              `${request.student}: not the student ${opts.request} was written for ` +
                "(its weights, the run's data or the images changed)",
            );
          }
          return await writeShard(pass, shard, progress, shardsDir());
        } finally {
          student.dispose();
        }
      });
      emit(opts.json, { shard: opts.shard, file }, () => `wrote ${file}`);
    });
}
