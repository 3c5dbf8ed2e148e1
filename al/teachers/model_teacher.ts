/**
 * A fixed teacher from a model that maps images to logits (zero-shot CLIP, a classifier): its
 * logits on the in-play train images and the test images, computed once with the eval transform
 * at the model's resolution and normalisation, and cached on disk by content key.
 */
import { noGradAsync } from "../../engine/autograd.ts";
import { scopeAsync, type Tensor, tensor } from "../../engine/tensor.ts";
import type { ImageSet } from "../data/image.ts";
import type { ExperimentData, RoundTeacher, TeacherLogits } from "../ports.ts";
import type { Progress } from "../progress.ts";
import { ImageInputs, type Split } from "../train/inputs.ts";
import { contentKey, LogitsCache, sha256 } from "./cache.ts";

export interface ModelInput {
  size: number;
  mean: readonly number[];
  std: readonly number[];
}

/** Images to logits, in eval mode, without gradients. */
export interface LogitsModel {
  readonly input: ModelInput;
  /** x [B, 3, S, S] → logits [B, C]. */
  logits(x: Tensor): Tensor;
  dispose(): void;
}

/** Images per teacher forward (the CLIP feature passes of CLAP and Tip-Adapter-F use it too). */
export const TEACHER_BATCH = 64;

export interface ModelTeacherOptions {
  spec: string;
  /** Identifies the weights and head (e.g. a hash of the checkpoint and the prompts). */
  weightsKey: string;
  description: string;
  input: ModelInput;
  /** Opens the model; not called when both splits are cached. */
  open: () => Promise<LogitsModel>;
  data: ExperimentData;
  sets: Record<Split, ImageSet>;
  cache?: LogitsCache;
  batch?: number;
}

async function indicesHash(indices: Int32Array): Promise<string> {
  return await sha256(new Uint8Array(indices.buffer, indices.byteOffset, indices.byteLength));
}

/** The key of one split's logits. */
async function splitKey(o: ModelTeacherOptions, split: Split, indices: Int32Array) {
  return await contentKey({
    teacher: o.weightsKey,
    dataset: o.data.dataset,
    split,
    indices: await indicesHash(indices),
    transform: { kind: "eval", ...o.input },
    precision: "f32",
  });
}

export async function modelTeacher(o: ModelTeacherOptions): Promise<RoundTeacher> {
  const cache = o.cache ?? new LogitsCache();
  const classes = o.data.classes.length;
  const keys = {
    train: await splitKey(o, "train", o.data.train),
    test: await splitKey(o, "test", o.data.test),
  };
  let logits: TeacherLogits | undefined;

  async function compute(progress: Progress): Promise<TeacherLogits> {
    const out: Partial<Record<Split, Float32Array>> = {};
    let model: LogitsModel | undefined;
    try {
      for (const split of ["train", "test"] as const) {
        const indices = split === "train" ? o.data.train : o.data.test;
        const hit = await cache.get(keys[split], indices.length, classes);
        if (hit) {
          progress.log(`teacher ${o.spec}: ${split} logits from the cache (${keys[split]})`);
          out[split] = hit;
          continue;
        }
        model ??= await o.open();
        out[split] = await run(model, split, indices, progress);
        await cache.put(keys[split], out[split]!, classes, {
          teacher: o.spec,
          dataset: o.data.dataset,
          split,
        });
      }
    } finally {
      model?.dispose();
    }
    return { train: out.train!, test: out.test! };
  }

  async function run(model: LogitsModel, split: Split, indices: Int32Array, progress: Progress) {
    const inputs = new ImageInputs(o.sets, { ...o.input, cacheBytes: 0 });
    const S = o.input.size;
    const B = o.batch ?? TEACHER_BATCH;
    const result = new Float32Array(indices.length * classes);
    const phase = progress.phase(`teacher ${o.spec} ${split}`, indices.length, "image");
    try {
      for (let start = 0; start < indices.length; start += B) {
        const idx = indices.subarray(start, Math.min(indices.length, start + B));
        const x = await inputs.evalBatch(split, idx);
        const z = await noGradAsync(() =>
          scopeAsync(async () => await model.logits(tensor(x, [idx.length, 3, S, S])).read())
        );
        if (z.length !== idx.length * classes) {
          throw new Error(
            `teacher ${o.spec}: ${z.length / idx.length} logits per image, ` +
              `the dataset has ${classes} classes`,
          );
        }
        result.set(z, start * classes);
        phase.tick(idx.length);
      }
    } finally {
      phase.end();
    }
    return result;
  }

  return {
    spec: o.spec,
    key: await contentKey({ train: keys.train, test: keys.test }),
    description: o.description,
    async forRound(_round, _labeled, _previous, _rng, progress) {
      logits ??= await compute(progress);
      return logits;
    },
  };
}
