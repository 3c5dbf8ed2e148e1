/**
 * `clap`: CLIP with a class-adaptive linear probe refitted on the labeled set every round
 * (docs/method.md §1; the fit itself is clap_fit.ts). CLIP's eval features of the images in play
 * are computed once and cached by content key; each round's fit draws its batches and crops from
 * the round's teacher stream ("batches", "augment": RandomResizedCrop(scale 0.08–1, bicubic) +
 * flip). `lag` reproduces the official code's quirk: round r is distilled from the probe fitted on
 * round r−1's labels. With `perStep` (augmented teacher input) the round's probe is kept, and
 * CLIP through it is the per-step teacher of training.
 */
import { noGrad, noGradAsync } from "../../engine/autograd.ts";
import { matmul } from "../../engine/ops/matmul.ts";
import type { Rng } from "../../engine/rng.ts";
import { scope, scopeAsync, type Tensor, tensor } from "../../engine/tensor.ts";
import { CLIP } from "../../models/clip/clip.ts";
import { ClipTokenizer } from "../../models/clip/tokenizer.ts";
import type { Dataset, ImageSet } from "../data/image.ts";
import type { ExperimentData, PixelTeacher, RoundTeacher, TeacherLogits } from "../ports.ts";
import type { Progress } from "../progress.ts";
import { ImageInputs, type Split } from "../train/inputs.ts";
import { contentKey, fileHash, LogitsCache } from "./cache.ts";
import { clipFeaturesPass } from "./clip_features.ts";
import type { ImagePass } from "../shards.ts";
import {
  CLAP_DEFAULTS,
  CLAP_SCALE,
  clapAlphas,
  type ClapSettings,
  clapSteps,
  fitClap,
  unit,
} from "./clap_fit.ts";
import { type ClipFiles, clipInput, datasetClassWeights } from "./clip_zeroshot.ts";
import { TEACHER_BATCH } from "./model_teacher.ts";

/** CLIP, its tokenizer, and a key naming the weights. The teacher owns (disposes) `clip`. */
export interface ClapModel {
  clip: CLIP;
  tokenizer: Pick<ClipTokenizer, "tokenize">;
  weightsKey: string;
  /** For messages: where the weights came from. */
  name: string;
}

export async function loadClapModel(files: ClipFiles): Promise<ClapModel> {
  const weightsKey = await fileHash(files.weights);
  const tokenizer = await ClipTokenizer.load(files.vocab);
  const clip = await CLIP.load(files.weights);
  return { clip, tokenizer, weightsKey, name: files.weights };
}

export interface ClapOptions {
  model: ClapModel;
  ds: Pick<Dataset, "classes" | "template" | "templates">;
  data: ExperimentData;
  sets: Record<Split, ImageSet>;
  lag: boolean;
  cache?: LogitsCache;
  batch?: number;
  settings?: ClapSettings;
  /** Keep each round's probe for the per-step forward (augmented teacher input). */
  perStep?: boolean;
}

/** Rows of `matrix` [n, d] at `rows`. */
function pick(matrix: Float32Array, d: number, rows: Iterable<number>): Float32Array {
  const list = [...rows];
  const out = new Float32Array(list.length * d);
  list.forEach((r, k) => out.set(matrix.subarray(r * d, (r + 1) * d), k * d));
  return out;
}

export async function clapTeacher(o: ClapOptions): Promise<RoundTeacher> {
  const cache = o.cache ?? new LogitsCache();
  const classes = o.data.classes.length;
  const { clip, tokenizer, weightsKey: weightsHash } = o.model;
  const settings = o.settings ?? CLAP_DEFAULTS;
  const { raw, weights } = datasetClassWeights(clip, tokenizer, o.ds);
  const input = clipInput(clip);
  const E = clip.config.embedDim;
  const B = o.batch ?? TEACHER_BATCH;
  const row = new Map<number, number>();
  o.data.train.forEach((i, k) => row.set(i, k));
  const wHost = await weights.read() as Float32Array;
  let features: Record<Split, Float32Array> | undefined;

  /** CLIP eval features of the images in play, train then test, as passes cached on disk. */
  const passes = [] as ImagePass[];
  for (const split of ["train", "test"] as const) {
    passes.push(
      await clipFeaturesPass({
        clip,
        weightsHash,
        dataset: o.data.dataset,
        split,
        set: o.sets[split],
        indices: o.data[split],
        batch: B,
        teacher: "clap",
      }),
    );
  }

  /**
   * Fits the probe on `labeled`: the teacher logits of every image in play, and (`perStep`) the
   * prototypes, which the caller then owns.
   */
  async function roundLogits(
    labeled: Int32Array,
    rng: Rng,
    progress: Progress,
  ): Promise<{ logits: TeacherLogits; prototypes?: Tensor }> {
    const f = features!;
    const labels = labeled.map((i) => o.data.trainLabels[i]);
    const alphas = clapAlphas(
      pick(f.train, E, labeled.map((i) => row.get(i)!)),
      labels,
      wHost,
      classes,
    );
    const steps = clapSteps(labeled.length, settings);
    const batches = rng.stream("batches");
    const augment = rng.stream("augment");
    const inputs = new ImageInputs(o.sets, {
      ...input,
      train: { scale: [0.08, 1], interpolation: "bicubic" },
      cacheBytes: 0,
    });
    const phase = progress.phase("CLAP fit", steps, "step");
    const { prototypes } = await fitClap(raw, alphas, steps, async () => {
      const idx = Int32Array.from(
        { length: settings.batch },
        () => labeled[batches.int(labeled.length)],
      );
      const x = await inputs.trainBatch(idx, augment);
      const s = input.size;
      // The input dies with the scope; the features escape it (fitClap disposes them).
      const featuresT = noGrad(() =>
        scope(() => clip.encodeImage(tensor(x, [idx.length, 3, s, s])))
      );
      phase.tick();
      return { features: featuresT, labels: idx.map((i) => o.data.trainLabels[i]) };
    }, settings);
    phase.end();
    try {
      const logits = {
        train: await probeLogits(f.train, prototypes),
        test: await probeLogits(f.test, prototypes),
      };
      if (!o.perStep) return { logits };
      return { logits: { ...logits, pixels: probeModel(prototypes) }, prototypes };
    } finally {
      if (!o.perStep) prototypes.dispose();
    }
  }

  /** CLIP's image encoder through the probe: 100 · f̂(x) · colnorm(P). */
  function probeModel(prototypes: Tensor): PixelTeacher {
    return {
      input,
      logits: (x) =>
        matmul(unit(clip.encodeImage(x), 1), unit(prototypes, 0), { alpha: CLAP_SCALE }),
    };
  }

  /** 100 · f̂ · colnorm(P) for feature rows [n, E], in chunks. */
  async function probeLogits(f: Float32Array, prototypes: Tensor): Promise<Float32Array> {
    const n = f.length / E;
    const out = new Float32Array(n * classes);
    const chunk = 4096;
    for (let start = 0; start < n; start += chunk) {
      const rows = Math.min(chunk, n - start);
      const z = await noGradAsync(() =>
        scopeAsync(async () => {
          const x = tensor(f.subarray(start * E, (start + rows) * E), [rows, E]);
          return await matmul(unit(x, 1), unit(prototypes, 0), { alpha: CLAP_SCALE }).read();
        })
      );
      out.set(z, start * classes);
    }
    return out;
  }

  /** The last fit (the same labels and stream give the same probe: round 0 is shared). */
  let last: { memo: string; logits: TeacherLogits; prototypes?: Tensor } | undefined;
  return {
    spec: "clap",
    key: await contentKey({ clap: weightsHash, lag: o.lag, dataset: o.data.dataset }),
    description: `CLAP (class-adaptive linear probe on CLIP ${o.model.name}), refitted every ` +
      `round${o.lag ? " on the previous round's labels (the official lag)" : ""}`,
    async forRound(round, labeled, previous, rng, progress) {
      features ??= {
        train: await cache.pass(passes[0], progress),
        test: await cache.pass(passes[1], progress),
      };
      const fitOn = o.lag && round > 0 && previous ? previous : labeled;
      const memo = `${round}:${Array.from(fitOn).join(",")}`;
      if (last?.memo !== memo) {
        last?.prototypes?.dispose();
        last = undefined;
        last = { memo, ...await roundLogits(fitOn, rng, progress) };
      }
      return last.logits;
    },
    passes: () => Promise.resolve(passes),
    dispose() {
      last?.prototypes?.dispose();
      raw.dispose();
      weights.dispose();
      clip.dispose();
    },
  };
}
