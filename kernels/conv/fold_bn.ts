/** BatchNorm folding into a convolution's weights (evaluation mode): spec and reference. */
import { type KernelSpec, wgsl } from "../spec.ts";

export const foldBnSpec: KernelSpec = {
  name: "fold_bn",
  source: wgsl("./fold_bn.wgsl", import.meta.url),
  bindings: [
    "w",
    "conv_bias",
    "gamma",
    "beta",
    "running_mean",
    "running_var",
    "out_w",
    "out_b",
    "params",
  ],
};

export interface FoldReferenceBn {
  gamma?: ArrayLike<number>;
  beta?: ArrayLike<number>;
  mean: ArrayLike<number>;
  variance: ArrayLike<number>;
  eps: number;
}

/**
 * Reference: PyTorch's `fuse_conv_bn_eval` in float64. w [Cout, Cin, KH, KW] (flat), bias [Cout]
 * or none → W' (same layout, or `packed`: [KH·KW][Cin][Cout rounded up to 4], zeros past Cout)
 * and b' [Cout]. Without `bn` only the layout changes (b' = b, or zeros).
 */
export function foldBnReference(
  w: ArrayLike<number>,
  wShape: readonly number[],
  bias: ArrayLike<number> | undefined,
  bn: FoldReferenceBn | undefined,
  packed: boolean,
): { weight: Float64Array; bias: Float64Array } {
  const [cout, cin, kh, kw] = wShape;
  const taps = kh * kw;
  const pad = Math.ceil(cout / 4) * 4;
  const weight = new Float64Array(packed ? taps * cin * pad : cout * cin * taps);
  const b = new Float64Array(cout);
  for (let co = 0; co < cout; co++) {
    let s = 1;
    b[co] = bias ? bias[co] : 0;
    if (bn) {
      const invstd = 1 / Math.sqrt(bn.variance[co] + bn.eps);
      const g = bn.gamma ? bn.gamma[co] : 1;
      s = g * invstd;
      b[co] = (b[co] - bn.mean[co]) * invstd * g + (bn.beta ? bn.beta[co] : 0);
    }
    for (let r = 0; r < cin; r++) {
      for (let t = 0; t < taps; t++) {
        const v = w[(co * cin + r) * taps + t] * s;
        weight[packed ? (t * cin + r) * pad + co : (co * cin + r) * taps + t] = v;
      }
    }
  }
  return { weight, bias: b };
}
