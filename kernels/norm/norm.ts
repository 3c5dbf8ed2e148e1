/** Layer norm and L2 normalisation row kernels: specs and float64 references. */
import { wgsl } from "../spec.ts";
import { type RowKernel, rowKernel } from "../softmax/row_reduce.ts";
import { forEachRow } from "../softmax/softmax.ts";

const source = wgsl("./norm.wgsl", import.meta.url);
const bindings = ["x", "w", "b", "g", "stats", "out", "out2", "params"];

function entry(name: string): RowKernel {
  return rowKernel({ name, source, entryPoint: name, bindings });
}

export const layerNormForward = entry("ln_forward");
export const layerNormBackward = entry("ln_backward");
export const layerNormParamGrad = entry("ln_param_grad");
export const l2NormalizeForward = entry("l2_forward");
export const l2NormalizeBackward = entry("l2_backward");

/** Layer norm over the last dim of [rows, d] (biased variance, as torch). */
export function layerNormReference(
  x: ArrayLike<number>,
  d: number,
  weight: ArrayLike<number> | undefined,
  bias: ArrayLike<number> | undefined,
  eps = 1e-5,
): Float64Array {
  const out = new Float64Array(x.length);
  for (let r = 0; r < x.length / d; r++) {
    let mean = 0;
    for (let k = 0; k < d; k++) mean += x[r * d + k];
    mean /= d;
    let v = 0;
    for (let k = 0; k < d; k++) v += (x[r * d + k] - mean) ** 2;
    const rstd = 1 / Math.sqrt(v / d + eps);
    for (let k = 0; k < d; k++) {
      out[r * d + k] = (x[r * d + k] - mean) * rstd * (weight ? weight[k] : 1) +
        (bias ? bias[k] : 0);
    }
  }
  return out;
}

/** x / max(‖x‖₂, eps) along `axis`, as torch.nn.functional.normalize. */
export function l2NormalizeReference(
  x: ArrayLike<number>,
  shape: readonly number[],
  axis: number,
  eps = 1e-12,
): Float64Array {
  const out = new Float64Array(x.length);
  forEachRow(shape, axis, (idx) => {
    const n = Math.sqrt(idx.reduce((s, i) => s + x[i] * x[i], 0));
    for (const i of idx) out[i] = x[i] / Math.max(n, eps);
  });
  return out;
}
