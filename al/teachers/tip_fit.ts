/**
 * Fitting Tip-Adapter-F (docs/method.md, the `fs` teacher) given CLIP image features:
 *   z = 100 · f̂ W + α · exp(−β (1 − f̂ Kᵀ)) V
 * W [E, C] the column-normalised zero-shot head, K [M, E] the cache keys, V [M, C] the one-hot
 * labels of the labeled set. As the Tip-Adapter code does: the keys start as the L2-normalised
 * mean of the unnormalised features of `augmentPasses` augmented views, are fine-tuned (a
 * bias-free linear layer initialised to Kᵀ, so the layer's weight is K itself and is not
 * renormalised while training) with CE on augmented labeled batches, AdamW (PyTorch defaults but
 * lr 0.001, eps 1e-4: weight decay stays torch's 0.01, as the official code leaves it) under
 * cosine annealing over all steps, α and β held at their initial values; the epoch with the best
 * validation accuracy is kept; then α and β are grid-searched on validation.
 */
import { requireGrad } from "../../engine/autograd.ts";
import { backward } from "../../engine/ops/backward.ts";
import { add, affine, exp } from "../../engine/ops/elementwise.ts";
import { matmul } from "../../engine/ops/matmul.ts";
import { crossEntropy } from "../../engine/ops/softmax.ts";
import { AdamW } from "../../engine/optim/adamw.ts";
import { cosine } from "../../engine/optim/schedule.ts";
import { keep, scopeAsync, type Tensor, tensor } from "../../engine/tensor.ts";
import { argmaxRows } from "../train/evaluate.ts";
import { unitRowsHost } from "./clap_fit.ts";

/** CLIP's zero-shot logit scale. */
export const TIP_SCALE = 100;

/** α, β at the start of fine-tuning and the search ranges [s_β, s_α] (β ∈ [0.1, s_β), …). */
export interface TipHyper {
  alpha: number;
  beta: number;
  searchScale: readonly [number, number];
}

/** The published per-dataset values (dataset names as al/data/coop.ts spells them). */
export const TIP_PUBLISHED: Readonly<Record<string, TipHyper>> = {
  Caltech101: { alpha: 3, beta: 1, searchScale: [12, 5] },
  DTD: { alpha: 2, beta: 1, searchScale: [13, 13] },
  EuroSAT: { alpha: 2, beta: 1, searchScale: [12, 10] },
  FGVCAircraft: { alpha: 5, beta: 1, searchScale: [30, 30] },
  Food101: { alpha: 1.17, beta: 1, searchScale: [10, 10] },
  ImageNet: { alpha: 1.17, beta: 1, searchScale: [7, 3] },
  Flowers102: { alpha: 10, beta: 1, searchScale: [50, 50] },
  OxfordPets: { alpha: 1.17, beta: 1, searchScale: [7, 3] },
  StanfordCars: { alpha: 3, beta: 1, searchScale: [20, 10] },
  SUN397: { alpha: 1.17, beta: 1, searchScale: [12, 10] },
  UCF101: { alpha: 3, beta: 1, searchScale: [7, 3] },
};

/** Datasets without published values (folders, IDX) use ImageNet's, the method's own default. */
export function tipHyper(dataset: string): TipHyper {
  return TIP_PUBLISHED[dataset] ?? TIP_PUBLISHED.ImageNet;
}

export interface TipSettings {
  lr: number;
  eps: number;
  weightDecay: number;
  epochs: number;
  batch: number;
  /** Augmented views averaged into each initial key. */
  augmentPasses: number;
  /** Grid sizes [β steps, α steps]. */
  searchSteps: readonly [number, number];
}

/** The Tip-Adapter configs: 20 epochs, lr 0.001, batches of 256, 10 augment passes. */
export const TIP_DEFAULTS: TipSettings = {
  lr: 0.001,
  eps: 1e-4,
  weightDecay: 0.01,
  epochs: 20,
  batch: 256,
  augmentPasses: 10,
  searchSteps: [200, 20],
};

/** Optimiser steps of one epoch (the last batch may be short, as with drop_last=False). */
export function tipStepsPerEpoch(labeled: number, s: TipSettings = TIP_DEFAULTS): number {
  return Math.ceil(labeled / s.batch);
}

/**
 * Tip-Adapter-F logits for L2-normalised features f̂ [n, E]: 100 f̂W + α exp(−β(1 − f̂Kᵀ))V.
 * Differentiable in `keys`.
 */
export function tipLogits(
  features: Tensor,
  weights: Tensor,
  keys: Tensor,
  values: Tensor,
  alpha: number,
  beta: number,
): Tensor {
  const affinity = matmul(features, keys, { transB: true });
  const cache = exp(affine(affinity, beta, -beta));
  return add(
    matmul(features, weights, { alpha: TIP_SCALE }),
    matmul(cache, values, { alpha }),
  );
}

/** V: one-hot rows [M, C] of `labels`. */
export function oneHot(labels: ArrayLike<number>, classes: number): Float32Array {
  const v = new Float32Array(labels.length * classes);
  for (let m = 0; m < labels.length; m++) v[m * classes + labels[m]] = 1;
  return v;
}

/** Host rows [n, d] L2-normalised (in float64, stored as float32). */
export function unitRows(x: Float32Array, d: number): Float32Array {
  return Float32Array.from(unitRowsHost(x, d));
}

/** Initial keys [M, E]: the normalised mean over passes of each image's unnormalised features. */
export function initialKeys(passes: readonly Float32Array[], dim: number): Float32Array {
  if (passes.length === 0) throw new Error("Tip-Adapter: no augmented passes");
  const mean = new Float64Array(passes[0].length);
  for (const p of passes) p.forEach((v, i) => mean[i] += v);
  return unitRows(Float32Array.from(mean, (v) => v / passes.length), dim);
}

export interface TipBatch {
  /** L2-normalised CLIP features of the batch's augmented images [B, E]; disposed by the fit. */
  features: Tensor;
  labels: Int32Array;
}

export interface TipFit {
  /** The kept keys [M, E] (host). */
  keys: Float32Array;
  losses: number[];
  /** Validation accuracy after each epoch, with α, β at their initial values. */
  accuracies: number[];
  bestEpoch: number;
}

/**
 * Fine-tunes the keys from `keys0` [M, E] for `epochs` epochs of `stepsPerEpoch` steps each;
 * `batch(step)` supplies each step's features, `score(keys)` the validation accuracy of the keys
 * after an epoch. The first epoch with the highest score is kept (PyTorch's `acc > best_acc`).
 */
export async function fitTipKeys(args: {
  keys0: Float32Array;
  values: Tensor;
  weights: Tensor;
  hyper: Pick<TipHyper, "alpha" | "beta">;
  stepsPerEpoch: number;
  batch: (step: number) => Promise<TipBatch>;
  score: (keys: Float32Array) => Promise<number>;
  settings?: TipSettings;
}): Promise<TipFit> {
  const s = args.settings ?? TIP_DEFAULTS;
  const [m, e] = [args.values.shape[0], args.keys0.length / args.values.shape[0]];
  const keys = keep(requireGrad(tensor(args.keys0, [m, e])));
  const opt = new AdamW([keys], { lr: s.lr, eps: s.eps, weightDecay: s.weightDecay });
  const total = s.epochs * args.stepsPerEpoch;
  const losses: number[] = [];
  const accuracies: number[] = [];
  let best = { keys: args.keys0, accuracy: -Infinity, epoch: -1 };
  try {
    for (let epoch = 0; epoch < s.epochs; epoch++) {
      for (let k = 0; k < args.stepsPerEpoch; k++) {
        const step = epoch * args.stepsPerEpoch + k;
        const b = await args.batch(step);
        try {
          losses.push(
            await scopeAsync(async () => {
              const y = tensor(b.labels, [b.labels.length], "i32");
              const z = tipLogits(
                b.features,
                args.weights,
                keys,
                args.values,
                args.hyper.alpha,
                args.hyper.beta,
              );
              const loss = crossEntropy(z, y);
              opt.zeroGrad();
              backward(loss);
              opt.setLr(cosine(step, total, s.lr));
              opt.step();
              opt.zeroGrad();
              return await loss.item();
            }),
          );
        } finally {
          b.features.dispose();
        }
      }
      const now = await keys.read() as Float32Array;
      const accuracy = await args.score(now);
      accuracies.push(accuracy);
      if (accuracy > best.accuracy) best = { keys: now, accuracy, epoch };
    }
  } finally {
    opt.dispose();
    keys.dispose();
  }
  return { keys: best.keys, losses, accuracies, bestEpoch: best.epoch };
}

/** The search grid of one hyper-parameter: [0.1, scale) in `steps` equal steps. */
export function searchGrid(scale: number, steps: number): number[] {
  return Array.from({ length: steps }, (_, i) => (i * (scale - 0.1)) / steps + 0.1);
}

/**
 * α, β by grid search on validation, as the Tip-Adapter code does (β outer, α inner, the first
 * best accuracy wins). `clipLogits` [n, C] = 100 f̂W, `affinity` [n, M] = f̂Kᵀ, `keyLabels` [M]
 * the cache's labels (V one-hot), `labels` [n] the validation labels. Host float64.
 */
export function searchTip(args: {
  clipLogits: Float32Array;
  affinity: Float32Array;
  keyLabels: Int32Array;
  labels: Int32Array;
  classes: number;
  hyper: TipHyper;
  settings?: TipSettings;
}): { alpha: number; beta: number; accuracy: number } {
  const s = args.settings ?? TIP_DEFAULTS;
  const { classes, labels, keyLabels } = args;
  const n = labels.length;
  const m = keyLabels.length;
  const cache = new Float64Array(n * classes);
  const z = new Float64Array(n * classes);
  let best = { alpha: args.hyper.alpha, beta: args.hyper.beta, accuracy: -1 };
  for (const beta of searchGrid(args.hyper.searchScale[0], s.searchSteps[0])) {
    cache.fill(0);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < m; j++) {
        cache[i * classes + keyLabels[j]] += Math.exp(-beta * (1 - args.affinity[i * m + j]));
      }
    }
    for (const alpha of searchGrid(args.hyper.searchScale[1], s.searchSteps[1])) {
      for (let k = 0; k < z.length; k++) z[k] = args.clipLogits[k] + alpha * cache[k];
      const pred = argmaxRows(z, classes);
      let right = 0;
      for (let i = 0; i < n; i++) if (pred[i] === labels[i]) right++;
      const accuracy = n > 0 ? right / n : 0;
      if (accuracy > best.accuracy) best = { alpha, beta, accuracy };
    }
  }
  return best;
}
