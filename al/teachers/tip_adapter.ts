/**
 * `tip-adapter-f`: CLIP with a Tip-Adapter-F cache model refitted on the labeled set every round
 * (docs/method.md; the fit itself is tip_fit.ts), and `tip-adapter-f:FILE`, a fixed fit loaded
 * from safetensors (`keys` [M, E], `values` [M, C], `alpha`, `beta`, metadata `clip_sha256`: the
 * SHA-256 of the CLIP weights it was fitted with; tools/convert_tip_adapter.py writes it from the
 * official `.pt` files). CLIP's eval features of the images in play (train, test, val) are cached
 * by content key. Each round's fit draws from the round's teacher stream: "augment" (crops, flips)
 * and "batches" (epoch order). `lag`: round r is distilled from the fit on round r−1's labels, the
 * official code's quirk as with CLAP. With `perStep` (augmented teacher input) the round's cache
 * model stays on the device, and CLIP through it is the per-step teacher of training.
 */
import { noGrad, noGradAsync } from "../../engine/autograd.ts";
import { InputError } from "../../engine/errors.ts";
import { matmul } from "../../engine/ops/matmul.ts";
import type { Rng } from "../../engine/rng.ts";
import { loadSafetensors } from "../../engine/safetensors.ts";
import { keep, scope, scopeAsync, type Tensor, tensor } from "../../engine/tensor.ts";
import type { Dataset } from "../data/image.ts";
import type { ExperimentData, PixelTeacher, RoundTeacher, TeacherLogits } from "../ports.ts";
import type { Progress } from "../progress.ts";
import { ImageInputs } from "../train/inputs.ts";
import { accuracy } from "../train/evaluate.ts";
import { contentKey, fileHash, LogitsCache } from "./cache.ts";
import type { ClapModel } from "./clap.ts";
import { unit } from "./clap_fit.ts";
import { clipFeaturesPass } from "./clip_features.ts";
import { clipInput, datasetClassWeights } from "./clip_zeroshot.ts";
import {
  fitTipKeys,
  initialKeys,
  oneHot,
  searchTip,
  TIP_DEFAULTS,
  tipHyper,
  tipLogits,
  type TipSettings,
  tipStepsPerEpoch,
} from "./tip_fit.ts";
import { TEACHER_BATCH } from "./model_teacher.ts";

/** A fitted cache model: keys [M, E] (normalised), values [M, C] one-hot, α, β. */
export interface TipCache {
  keys: Float32Array;
  values: Float32Array;
  alpha: number;
  beta: number;
}

export interface TipOptions {
  /** CLIP, its tokenizer, its weights hash; the teacher owns (disposes) the CLIP model. */
  model: ClapModel;
  ds: Pick<Dataset, "name" | "classes" | "template" | "templates" | "splits">;
  data: ExperimentData;
  lag: boolean;
  /** A fit to load instead of refitting every round (`tip-adapter-f:FILE`). */
  fitFile?: string;
  cache?: LogitsCache;
  batch?: number;
  settings?: TipSettings;
  /** Keep each round's cache model for the per-step forward (augmented teacher input). */
  perStep?: boolean;
}

/** Reads a fit written by tools/convert_tip_adapter.py and checks it against CLIP and the data. */
export async function loadTipCache(
  path: string,
  clipHash: string,
  dim: number,
  classes: number,
): Promise<TipCache> {
  const { tensors, metadata } = await loadSafetensors(path);
  const get = (name: string, rank: number) => {
    const t = tensors.get(name);
    if (!t || t.dtype !== "f32" || t.shape.length !== rank) {
      throw new InputError(`${path}: needs an F32 tensor "${name}" of rank ${rank}`);
    }
    return t;
  };
  const keys = get("keys", 2);
  const values = get("values", 2);
  const [alpha, beta] = [get("alpha", 0).data[0], get("beta", 0).data[0]];
  if (metadata?.clip_sha256 !== clipHash) {
    throw new InputError(
      `${path}: fitted with CLIP weights ${metadata?.clip_sha256 ?? "(not recorded)"}, ` +
        `not the given ones (${clipHash})`,
    );
  }
  const [m, e] = keys.shape;
  if (e !== dim || values.shape[0] !== m || values.shape[1] !== classes) {
    throw new InputError(
      `${path}: keys [${keys.shape}] and values [${values.shape}] do not fit CLIP's ${dim}-d ` +
        `features and the dataset's ${classes} classes`,
    );
  }
  return {
    keys: keys.data as Float32Array,
    values: values.data as Float32Array,
    alpha,
    beta,
  };
}

/** The teacher; on a bad fit file or dataset it disposes the CLIP model it was given. */
export async function tipAdapterTeacher(o: TipOptions): Promise<RoundTeacher> {
  try {
    return await build(o);
  } catch (e) {
    o.model.clip.dispose();
    throw e;
  }
}

async function build(o: TipOptions): Promise<RoundTeacher> {
  const cache = o.cache ?? new LogitsCache();
  const classes = o.data.classes.length;
  const { clip, tokenizer, weightsKey: weightsHash } = o.model;
  const settings = o.settings ?? TIP_DEFAULTS;
  const hyper = tipHyper(o.data.dataset);
  const input = clipInput(clip);
  const E = clip.config.embedDim;
  const B = o.batch ?? TEACHER_BATCH;
  const val = o.ds.splits.val;
  if (!o.fitFile && val.length === 0) {
    throw new InputError(
      `teacher tip-adapter-f: dataset ${o.data.dataset} has no val split (it picks the epoch ` +
        `and α, β on val)`,
    );
  }
  const loaded = o.fitFile ? await loadTipCache(o.fitFile, weightsHash, E, classes) : undefined;
  const key = await contentKey({
    tipAdapterF: weightsHash,
    fit: o.fitFile ? await fileHash(o.fitFile) : undefined,
    lag: o.lag,
    dataset: o.data.dataset,
    settings,
    hyper,
  });
  // Nothing below throws before the teacher, which owns these, is returned.
  const { weights, raw } = datasetClassWeights(clip, tokenizer, o.ds);
  raw.dispose();
  const valIndices = Int32Array.from({ length: val.length }, (_, i) => i);
  const valLabels = val.labels;
  let features: { train: Float32Array; test: Float32Array; val: Float32Array } | undefined;

  // CLIP eval features of the images in play (and of val, which a loaded fit does not need),
  // as passes cached on disk.
  const common = { clip, weightsHash, dataset: o.data.dataset, batch: B, teacher: "tip-adapter-f" };
  const passes = [
    await clipFeaturesPass({
      ...common,
      split: "train",
      set: o.ds.splits.train,
      indices: o.data.train,
    }),
    await clipFeaturesPass({
      ...common,
      split: "test",
      set: o.ds.splits.test,
      indices: o.data.test,
    }),
  ];
  if (!loaded) {
    passes.push(await clipFeaturesPass({ ...common, split: "val", set: val, indices: valIndices }));
  }

  async function allFeatures(progress: Progress) {
    return {
      train: await cache.pass(passes[0], progress),
      test: await cache.pass(passes[1], progress),
      val: passes[2] ? await cache.pass(passes[2], progress) : new Float32Array(0),
    };
  }

  /** Rows of f̂ [n, E] (host, unnormalised) through `fn`, in chunks, concatenated. */
  async function chunked(
    f: Float32Array,
    cols: number,
    fn: (x: Tensor) => Tensor,
  ): Promise<Float32Array> {
    const n = f.length / E;
    const out = new Float32Array(n * cols);
    const chunk = 4096;
    for (let start = 0; start < n; start += chunk) {
      const rows = Math.min(chunk, n - start);
      const z = await noGradAsync(() =>
        scopeAsync(async () => {
          const x = unit(tensor(f.subarray(start * E, (start + rows) * E), [rows, E]), 1);
          return await fn(x).read() as Float32Array;
        })
      );
      out.set(z, start * cols);
    }
    return out;
  }

  function logitsOf(f: Float32Array, c: TipCache): Promise<Float32Array> {
    return chunked(f, classes, (x) => {
      const m = c.values.length / classes;
      return tipLogits(
        x,
        weights,
        tensor(c.keys, [m, E]),
        tensor(c.values, [m, classes]),
        c.alpha,
        c.beta,
      );
    });
  }

  /** Unnormalised CLIP features of one augmented view of each of `indices`. */
  async function augmentedFeatures(
    inputs: ImageInputs,
    indices: Int32Array,
    augment: Rng,
  ): Promise<Tensor> {
    const x = await inputs.trainBatch(indices, augment);
    const s = input.size;
    return noGrad(() => scope(() => clip.encodeImage(tensor(x, [indices.length, 3, s, s]))));
  }

  /** Fits the cache model on `labeled` (indices into the train split). */
  async function fit(labeled: Int32Array, rng: Rng, progress: Progress): Promise<TipCache> {
    const f = features!;
    const keyLabels = labeled.map((i) => o.data.trainLabels[i]);
    const augment = rng.stream("augment");
    const batches = rng.stream("batches");
    const inputs = new ImageInputs({ train: o.ds.splits.train, test: o.ds.splits.train }, {
      ...input,
      train: { scale: [0.5, 1], interpolation: "bicubic" },
      cacheBytes: 0,
    });
    const passes: Float32Array[] = [];
    const cachePhase = progress.phase("Tip-Adapter keys", settings.augmentPasses, "pass");
    for (let p = 0; p < settings.augmentPasses; p++) {
      const pass = new Float32Array(labeled.length * E);
      for (let start = 0; start < labeled.length; start += B) {
        const idx = labeled.subarray(start, Math.min(labeled.length, start + B));
        const t = await augmentedFeatures(inputs, idx, augment);
        pass.set(await t.read() as Float32Array, start * E);
        t.dispose();
      }
      passes.push(pass);
      cachePhase.tick();
    }
    cachePhase.end();
    const values = oneHot(keyLabels, classes);
    const valuesT = tensor(values, [labeled.length, classes]);
    const stepsPerEpoch = tipStepsPerEpoch(labeled.length, settings);
    const phase = progress.phase("Tip-Adapter-F fit", settings.epochs * stepsPerEpoch, "step");
    let order: Int32Array = new Int32Array(0);
    try {
      const result = await fitTipKeys({
        keys0: initialKeys(passes, E),
        values: valuesT,
        weights,
        hyper,
        stepsPerEpoch,
        settings,
        batch: async (step) => {
          const k = step % stepsPerEpoch;
          if (k === 0) order = batches.permutation(labeled.length);
          const rows = order.subarray(k * settings.batch, (k + 1) * settings.batch);
          const idx = rows.map((r) => labeled[r]);
          const raw = await augmentedFeatures(inputs, idx, augment);
          const featuresT = noGrad(() => scope(() => unit(raw, 1)));
          raw.dispose();
          phase.tick();
          return { features: featuresT, labels: rows.map((r) => keyLabels[r]) };
        },
        score: async (keys) =>
          accuracy(
            await logitsOf(f.val, { keys, values, alpha: hyper.alpha, beta: hyper.beta }),
            valLabels,
            classes,
          ),
      });
      const keysT = () => tensor(result.keys, [labeled.length, E]);
      const found = searchTip({
        clipLogits: await chunked(f.val, classes, (x) => matmul(x, weights, { alpha: 100 })),
        affinity: await chunked(f.val, labeled.length, (x) => matmul(x, keysT(), { transB: true })),
        keyLabels,
        labels: valLabels,
        classes,
        hyper,
        settings,
      });
      return { keys: result.keys, values, alpha: found.alpha, beta: found.beta };
    } finally {
      phase.end();
      valuesT.dispose();
    }
  }

  /** The cache model on the device, through CLIP's image encoder; `release` frees it. */
  function cacheModel(c: TipCache): PixelTeacher & { release(): void } {
    const m = c.values.length / classes;
    // Owned here whatever scope forRound runs in.
    const keysT = keep(tensor(c.keys, [m, E]));
    const valuesT = keep(tensor(c.values, [m, classes]));
    return {
      input,
      logits: (x) =>
        tipLogits(unit(clip.encodeImage(x), 1), weights, keysT, valuesT, c.alpha, c.beta),
      release() {
        keysT.dispose();
        valuesT.dispose();
      },
    };
  }

  /** The last fit (or the loaded one), and its device copy with `perStep`. */
  let last:
    | { memo: string; logits: TeacherLogits; model?: ReturnType<typeof cacheModel> }
    | undefined;
  return {
    spec: o.fitFile ? `tip-adapter-f:${o.fitFile}` : "tip-adapter-f",
    key,
    description: o.fitFile
      ? `Tip-Adapter-F fit ${o.fitFile} on CLIP ${o.model.name}`
      : `Tip-Adapter-F (cache model on CLIP ${o.model.name}), refitted every round` +
        (o.lag ? " on the previous round's labels (the official lag)" : ""),
    async forRound(round, labeled, previous, rng, progress) {
      features ??= await allFeatures(progress);
      const fitOn = o.lag && round > 0 && previous ? previous : labeled;
      const memo = loaded ? "loaded" : `${round}:${Array.from(fitOn).join(",")}`;
      if (last?.memo !== memo) {
        last?.model?.release();
        last = undefined;
        const c = loaded ?? await fit(fitOn, rng, progress);
        const logits = {
          train: await logitsOf(features.train, c),
          test: await logitsOf(features.test, c),
        };
        const model = o.perStep ? cacheModel(c) : undefined;
        last = { memo, logits: model ? { ...logits, pixels: model } : logits, model };
      }
      return last.logits;
    },
    passes: () => Promise.resolve(passes),
    dispose() {
      last?.model?.release();
      weights.dispose();
      clip.dispose();
    },
  };
}
