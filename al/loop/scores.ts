/**
 * A round's pool scores — its student's two heads' logits and features on the pool, then the
 * labeled set — as a pass (al/shards.ts) keyed by the student's weights, so that a pool too big
 * for one machine is scored by `akd score --request R --shard K/N` jobs (docs/cli.md, "Sharded
 * work"). With `scoreShards`, the loop stops at a scoring step with a request beside the
 * student (ScoresNeeded: exit 3); run again, it merges the shards (every check of
 * al/shards.ts), keeps the merged scores beside the student (`scores.safetensors`, deleted with
 * the student) and selects from them.
 */
import { dirname, join, resolve } from "node:path";
import { InputError } from "../../engine/errors.ts";
import { removeIfPresent } from "../../engine/files.ts";
import { loadSafetensors, saveSafetensors } from "../../engine/safetensors.ts";
import type { ExperimentData, Predictions, Student } from "../ports.ts";
import type { Progress } from "../progress.ts";
import {
  type ImagePass,
  loadWhole,
  mergeShards,
  removeShards,
  saveWhole,
  shardFile,
} from "../shards.ts";
import { contentKey, fileHash, sha256 } from "../teachers/cache.ts";
import { PREDICT_BATCH } from "../train/predict.ts";

export const SCORE_REQUEST = "score-request.safetensors";
export const SCORES_FILE = "scores.safetensors";

/** The run stopped for sharded scores (exit 3): the message says what to run. */
export class ScoresNeeded extends Error {
  override name = "ScoresNeeded";
}

/** The scores of `student` (saved as `studentFile`) on train images `indices`, as a pass. */
export async function scoresPass(
  student: Student,
  studentFile: string,
  data: ExperimentData,
  imageSize: number,
  indices: Int32Array,
  label: string,
): Promise<ImagePass> {
  const C = data.classes.length;
  const bytes = new Uint8Array(indices.buffer, indices.byteOffset, indices.byteLength);
  return {
    key: await contentKey({
      scores: await fileHash(studentFile),
      dataset: data.dataset,
      indices: await sha256(bytes),
      transform: { kind: "eval", size: imageSize },
    }),
    name: `scores of ${studentFile}`,
    rows: indices.length,
    cols: { ce: C, kd: C, features: student.dim },
    batch: PREDICT_BATCH,
    async compute(start, end, progress) {
      const p = await student.predict("train", indices.subarray(start, end), progress, label);
      return { ce: p.ce, kd: p.kd, features: p.features };
    },
  };
}

/** What a score job needs: the pass's key, the run's config, the student, the images. */
export interface ScoreRequest {
  key: string;
  config: string;
  student: string;
  count: number;
  indices: Int32Array;
}

export async function readScoreRequest(file: string): Promise<ScoreRequest> {
  const { tensors, metadata } = await loadSafetensors(file);
  const indices = tensors.get("indices");
  const { key, config, student, shards } = metadata;
  if (indices?.dtype !== "i32" || !key || !config || !student || !(Number(shards) >= 1)) {
    throw new InputError(`${file}: not a score request (${SCORE_REQUEST} written by akd run)`);
  }
  return { key, config, student, count: Number(shards), indices: indices.data as Int32Array };
}

/**
 * The loop's scores with sharding on: the merged scores kept beside the student, else its
 * shards in `shards` merged (and kept), else a request and ScoresNeeded.
 */
export async function shardedScores(a: {
  pass: ImagePass;
  studentFile: string;
  configFile: string;
  count: number;
  shards: string;
  indices: Int32Array;
  progress: Progress;
}): Promise<Predictions> {
  const { pass } = a;
  const dir = dirname(a.studentFile);
  const kept = join(dir, SCORES_FILE);
  let m = await loadWhole(kept, pass);
  if (!m) {
    m = await mergeShards(pass, a.shards);
    if (m) {
      a.progress.log(`${pass.name}: merged from its shards (${pass.key})`);
      await saveWhole(kept, pass, m);
      await removeShards(pass.key, a.shards);
      await removeIfPresent(join(dir, SCORE_REQUEST));
    }
  }
  if (m) return { ce: m.ce, kd: m.kd, features: m.features, dim: pass.cols.features };
  const request = join(dir, SCORE_REQUEST);
  await saveSafetensors(
    request,
    { indices: { dtype: "i32", shape: [a.indices.length], data: a.indices } },
    {
      key: pass.key,
      config: resolve(a.configFile),
      student: resolve(a.studentFile),
      shards: String(a.count),
    },
  );
  throw new ScoresNeeded(
    `waiting for the ${pass.name}: run "akd score --request ${request} --shard K/${a.count}" ` +
      `for K = 1..${a.count} (writing ${
        shardFile(a.shards, pass.key, { index: 1, count: a.count })
      }` +
      ` and its siblings), then resume the run with --resume --score-shards ${a.count}`,
  );
}
