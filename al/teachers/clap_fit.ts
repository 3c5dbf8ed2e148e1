/**
 * Fitting CLAP, the class-adaptive linear probe (docs/method.md §1), given CLIP image features:
 * prototypes P [E, C] start at the zero-shot W_raw; each step minimises
 *   CE(100 · f̂ᵀ colnorm(P), y) + (1/C) Σ_c α_c ‖P_c − W_raw,c‖²
 * with SGD (lr 0.01, momentum 0.9, no weight decay) under linear warm-up (10%) then linear
 * decay to 0, for ⌊|L| · 300 / 64⌋ steps of 64 images drawn with replacement.
 */
import { noGrad, requireGrad } from "../../engine/autograd.ts";
import { add, mul, rsqrt, scale, square, sub } from "../../engine/ops/elementwise.ts";
import { matmul } from "../../engine/ops/matmul.ts";
import { sum } from "../../engine/ops/reduce.ts";
import { crossEntropy } from "../../engine/ops/softmax.ts";
import { backward } from "../../engine/ops/backward.ts";
import { SGD } from "../../engine/optim/sgd.ts";
import { warmupLinear } from "../../engine/optim/schedule.ts";
import { keep, scope, scopeAsync, type Tensor, tensor } from "../../engine/tensor.ts";
import { softmaxRows } from "../train/evaluate.ts";

/** CLIP's zero-shot logit scale. */
export const CLAP_SCALE = 100;

export interface ClapSettings {
  lr: number;
  momentum: number;
  warmup: number;
  /** Steps = ⌊|L| · epochs / batch⌋. */
  epochs: number;
  batch: number;
}

export const CLAP_DEFAULTS: ClapSettings = {
  lr: 0.01,
  momentum: 0.9,
  warmup: 0.1,
  epochs: 300,
  batch: 64,
};

export function clapSteps(labeled: number, s: ClapSettings = CLAP_DEFAULTS): number {
  return Math.floor((labeled * s.epochs) / s.batch);
}

/** x / ‖x‖ along `axis` (rows: 1, columns: 0), differentiable. */
export function unit(x: Tensor, axis: 0 | 1): Tensor {
  return mul(x, rsqrt(sum(square(x), [axis], true)));
}

/** Host x [n, d] with each row L2-normalised, in float64. */
export function unitRowsHost(x: Float32Array, d: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i += d) {
    let s = 0;
    for (let k = 0; k < d; k++) s += x[i + k] ** 2;
    const inv = 1 / Math.sqrt(s);
    for (let k = 0; k < d; k++) out[i + k] = x[i + k] * inv;
  }
  return out;
}

/**
 * α_c = mean over labeled images of class c of softmax(100 f̂ᵀW)[c] (0 for a class without
 * labeled images). `features` [M, E] are the labeled images' non-augmented CLIP features,
 * `weights` W [E, C] the column-normalised zero-shot weights.
 */
export function clapAlphas(
  features: Float32Array,
  labels: Int32Array,
  weights: Float32Array,
  classes: number,
): Float64Array {
  const e = weights.length / classes;
  const f = unitRowsHost(features, e);
  const logits = new Float32Array(labels.length * classes);
  for (let i = 0; i < labels.length; i++) {
    for (let c = 0; c < classes; c++) {
      let s = 0;
      for (let k = 0; k < e; k++) s += f[i * e + k] * weights[k * classes + c];
      logits[i * classes + c] = CLAP_SCALE * s;
    }
  }
  const p = softmaxRows(logits, classes);
  const total = new Float64Array(classes);
  const count = new Float64Array(classes);
  labels.forEach((y, i) => {
    total[y] += p[i * classes + y];
    count[y]++;
  });
  return total.map((t, c) => (count[c] > 0 ? t / count[c] : 0));
}

/** The CLAP objective on one batch of features [B, E] with labels i32 [B]. */
export function clapLoss(
  prototypes: Tensor,
  rawWeights: Tensor,
  alphas: Tensor,
  features: Tensor,
  labels: Tensor,
): Tensor {
  const classes = prototypes.shape[1];
  const logits = matmul(unit(features, 1), unit(prototypes, 0), { alpha: CLAP_SCALE });
  const penalty = sum(mul(square(sub(prototypes, rawWeights)), alphas));
  return add(crossEntropy(logits, labels), scale(penalty, 1 / classes));
}

export interface ClapBatch {
  features: Tensor;
  labels: Int32Array;
}

/**
 * Fits P from W_raw [E, C] for `steps` steps; `batch(step)` supplies each step's (augmented)
 * image features. Returns P (the caller owns it) and the loss of each step.
 */
export async function fitClap(
  rawWeights: Tensor,
  alphas: Float64Array,
  steps: number,
  batch: (step: number) => Promise<ClapBatch>,
  settings: ClapSettings = CLAP_DEFAULTS,
): Promise<{ prototypes: Tensor; losses: number[] }> {
  const [, classes] = rawWeights.shape;
  const prototypes = keep(requireGrad(noGrad(() => scope(() => add(rawWeights, tensor([0]))))));
  const alphaT = keep(tensor(Float32Array.from(alphas), [1, classes]));
  const sgd = new SGD([prototypes], { lr: settings.lr, momentum: settings.momentum });
  const losses: number[] = [];
  try {
    for (let step = 0; step < steps; step++) {
      const b = await batch(step);
      losses.push(
        await scopeAsync(async () => {
          const y = tensor(b.labels, [b.labels.length], "i32");
          const loss = clapLoss(prototypes, rawWeights, alphaT, b.features, y);
          sgd.zeroGrad();
          backward(loss);
          sgd.setLr(warmupLinear(step, steps, settings.lr, settings.warmup));
          sgd.step();
          sgd.zeroGrad();
          return await loss.item();
        }),
      );
      b.features.dispose();
    }
  } catch (e) {
    prototypes.dispose();
    throw e;
  } finally {
    sgd.dispose();
    alphaT.dispose();
  }
  prototypes.requiresGrad = false;
  return { prototypes, losses };
}
