/** BatchNorm kernels (channels-last [P, C]): specs and the float64 reference. */
import { type KernelSpec, wgsl } from "../spec.ts";

export const batchNormReduceSpec: KernelSpec = {
  name: "batch_norm_reduce",
  source: wgsl("./batch_norm_reduce.wgsl", import.meta.url),
  bindings: ["x", "g", "y", "stats", "partial", "params"],
};

export const batchNormFinalizeSpec: KernelSpec = {
  name: "batch_norm_finalize",
  source: wgsl("./batch_norm_finalize.wgsl", import.meta.url),
  bindings: [
    "partial",
    "weight",
    "bias",
    "running_mean",
    "running_var",
    "batches",
    "out",
    "params",
  ],
};

export const batchNormApplySpec: KernelSpec = {
  name: "batch_norm_apply",
  source: wgsl("./batch_norm_apply.wgsl", import.meta.url),
  bindings: ["x", "stats", "residual", "y", "params"],
};

export const batchNormBackwardSpec: KernelSpec = {
  name: "batch_norm_backward",
  source: wgsl("./batch_norm_backward.wgsl", import.meta.url),
  bindings: ["x", "g", "y", "stats", "sums", "weight", "dx", "dres", "params"],
};

/**
 * Reference: PyTorch `F.batch_norm` on NCHW host data in float64. Training mode normalises with
 * the batch mean and biased variance; evaluation mode with `runningMean` / `runningVar`.
 */
export function batchNormReference(
  x: ArrayLike<number>,
  shape: readonly number[],
  weight: ArrayLike<number> | undefined,
  bias: ArrayLike<number> | undefined,
  opts: {
    training: boolean;
    runningMean?: ArrayLike<number>;
    runningVar?: ArrayLike<number>;
    eps?: number;
  },
): { out: Float64Array; mean: Float64Array; variance: Float64Array } {
  const [n, c] = shape;
  const plane = shape.slice(2).reduce((a, b) => a * b, 1);
  const eps = opts.eps ?? 1e-5;
  const count = n * plane;
  const mean = new Float64Array(c), variance = new Float64Array(c);
  for (let k = 0; k < c; k++) {
    let s = 0;
    for (let b = 0; b < n; b++) for (let i = 0; i < plane; i++) s += x[(b * c + k) * plane + i];
    mean[k] = s / count;
    let q = 0;
    for (let b = 0; b < n; b++) {
      for (let i = 0; i < plane; i++) q += (x[(b * c + k) * plane + i] - mean[k]) ** 2;
    }
    variance[k] = q / count;
  }
  const m = opts.training ? mean : Float64Array.from(opts.runningMean ?? []);
  const v = opts.training ? variance : Float64Array.from(opts.runningVar ?? []);
  const out = new Float64Array(x.length);
  for (let b = 0; b < n; b++) {
    for (let k = 0; k < c; k++) {
      const scale = (weight ? weight[k] : 1) / Math.sqrt(v[k] + eps);
      for (let i = 0; i < plane; i++) {
        const at = (b * c + k) * plane + i;
        out[at] = (x[at] - m[k]) * scale + (bias ? bias[k] : 0);
      }
    }
  }
  return { out, mean, variance };
}
