/**
 * A fixed teacher from a model that maps images to logits (zero-shot CLIP, a classifier): its
 * logits on the in-play train images and the test images, computed once with the eval transform
 * at the model's resolution and normalisation, and cached on disk by content key; each split's
 * logits are a pass that `akd teacher --shard` can compute in parts (al/shards.ts). With
 * `perStep` (augmented teacher input) the model also stays open, for the per-step forward on the
 * student's crops, until the teacher is disposed.
 */
import { noGradAsync } from "../../engine/autograd.ts";
import { scopeAsync, tensor } from "../../engine/tensor.ts";
import type { ImageSet } from "../data/image.ts";
import type { ExperimentData, PixelTeacher, RoundTeacher, TeacherLogits } from "../ports.ts";
import type { Progress } from "../progress.ts";
import { ImageInputs, type ModelInput, type Split } from "../train/inputs.ts";
import type { ImagePass } from "../shards.ts";
import { contentKey, LOGITS, LogitsCache, sha256 } from "./cache.ts";

/** Images to logits, in eval mode, without gradients; it owns its weights. */
export interface LogitsModel extends PixelTeacher {
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
  /** Opens the model; not called when both splits are cached (or merged from shards). */
  open: () => Promise<LogitsModel>;
  data: ExperimentData;
  sets: Record<Split, ImageSet>;
  cache?: LogitsCache;
  batch?: number;
  /** Keep the model open and hand it to training every round (augmented teacher input). */
  perStep?: boolean;
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
  const B = o.batch ?? TEACHER_BATCH;
  const splits = { train: o.data.train, test: o.data.test };
  let model: LogitsModel | undefined;
  const passes: ImagePass[] = [];
  for (const split of ["train", "test"] as const) {
    const indices = splits[split];
    passes.push({
      key: await splitKey(o, split, indices),
      name: `teacher ${o.spec} ${split} logits`,
      rows: indices.length,
      cols: { [LOGITS]: classes },
      batch: B,
      async compute(start, end, progress) {
        model ??= await o.open();
        return { [LOGITS]: await run(model, split, indices.subarray(start, end), progress) };
      },
    });
  }
  let logits: TeacherLogits | undefined;

  async function run(model: LogitsModel, split: Split, indices: Int32Array, progress: Progress) {
    const inputs = new ImageInputs(o.sets, { ...o.input, cacheBytes: 0 });
    const S = o.input.size;
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

  const dispose = () => {
    model?.dispose();
    model = undefined;
  };
  return {
    spec: o.spec,
    key: await contentKey({ train: passes[0].key, test: passes[1].key }),
    description: o.description,
    async forRound(_round, _labeled, _previous, _rng, progress) {
      if (!logits) {
        try {
          const [train, test] = [
            await cache.pass(passes[0], progress),
            await cache.pass(passes[1], progress),
          ];
          logits = { train, test };
        } finally {
          if (!o.perStep) dispose(); // the logits are all it is needed for
        }
      }
      if (!o.perStep) return logits;
      model ??= await o.open();
      return { ...logits, pixels: model };
    },
    passes: () => Promise.resolve(passes),
    dispose,
  };
}
