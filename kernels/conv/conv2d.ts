/** Implicit-GEMM convolution kernel (channels-last): spec and geometry. */
import { type KernelSpec, wgsl } from "../spec.ts";

export const conv2dSpec: KernelSpec = {
  name: "conv2d",
  source: wgsl("./conv2d.wgsl", import.meta.url),
  bindings: ["src", "w", "dst", "params"],
};

/**
 * The forward convolution on weights packed by the BatchNorm fold (groups 1, Cin a multiple of
 * 4), epilogue fused: the evaluation-mode path.
 */
export const conv2dPackedSpec: KernelSpec = {
  name: "conv2d_packed",
  source: wgsl("./conv2d_packed.wgsl", import.meta.url),
  bindings: ["src", "wp", "bias", "residual", "dst", "params"],
};

/** y = act(x + bias[c] + residual) on channels-last [P, C]: the convolution epilogue. */
export const biasActSpec: KernelSpec = {
  name: "bias_act",
  source: wgsl("./bias_act.wgsl", import.meta.url),
  bindings: ["x", "bias", "residual", "y", "params"],
};

/**
 * Destination pixels per workgroup and vec4 channel blocks per invocation (the WGSL consts).
 * TN = 1: on llvmpipe a ResNet-18 training step ran about twice as fast as with TN = 2 (both at
 * width 16, 16×16 and at width 64, 32×32; the 32 vec4 accumulators of TN = 2 did not pay).
 */
export const CONV_TM = 16;
export const CONV_TN = 1;
/** Output-channel vec4 blocks per invocation of conv2d_packed.wgsl (its const TN; TM is CONV_TM). */
export const CONV_PACKED_TN = 2;
/** Reduction channels per workgroup of the weight gradient (its WGSL const TM). */
export const WEIGHT_GRAD_TM = 16;

export const conv2dWeightGradSpec: KernelSpec = {
  name: "conv2d_weight_grad",
  source: wgsl("./conv2d_weight_grad.wgsl", import.meta.url),
  bindings: ["src", "dy", "dw", "params"],
};

export interface ConvReferenceOptions {
  stride?: [number, number];
  padding?: [number, number];
  dilation?: [number, number];
  groups?: number;
}

/**
 * Reference: PyTorch `F.conv2d` on NCHW host data in float64. x [N, Cin, H, W],
 * w [Cout, Cin/groups, KH, KW], bias [Cout] → [N, Cout, OH, OW] (and its shape).
 */
export function conv2dReference(
  x: ArrayLike<number>,
  xShape: readonly number[],
  w: ArrayLike<number>,
  wShape: readonly number[],
  bias?: ArrayLike<number>,
  { stride = [1, 1], padding = [0, 0], dilation = [1, 1], groups = 1 }: ConvReferenceOptions = {},
): { out: Float64Array; shape: number[] } {
  const [n, cin, h, wd] = xShape;
  const [cout, cinG, kh, kw] = wShape;
  const oh = Math.floor((h + 2 * padding[0] - dilation[0] * (kh - 1) - 1) / stride[0]) + 1;
  const ow = Math.floor((wd + 2 * padding[1] - dilation[1] * (kw - 1) - 1) / stride[1]) + 1;
  const coutG = cout / groups;
  const out = new Float64Array(n * cout * oh * ow);
  for (let b = 0; b < n; b++) {
    for (let co = 0; co < cout; co++) {
      const g = Math.floor(co / coutG);
      for (let y = 0; y < oh; y++) {
        for (let xo = 0; xo < ow; xo++) {
          let s = bias ? bias[co] : 0;
          for (let r = 0; r < cinG; r++) {
            const ci = g * cinG + r;
            for (let ky = 0; ky < kh; ky++) {
              const iy = y * stride[0] - padding[0] + ky * dilation[0];
              if (iy < 0 || iy >= h) continue;
              for (let kx = 0; kx < kw; kx++) {
                const ix = xo * stride[1] - padding[1] + kx * dilation[1];
                if (ix < 0 || ix >= wd) continue;
                s += x[((b * cin + ci) * h + iy) * wd + ix] *
                  w[((co * cinG + r) * kh + ky) * kw + kx];
              }
            }
          }
          out[((b * cout + co) * oh + y) * ow + xo] = s;
        }
      }
    }
  }
  return { out, shape: [n, cout, oh, ow] };
}
