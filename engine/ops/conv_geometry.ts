/**
 * What a 2-D convolution is (PyTorch `F.conv2d` semantics: stride, padding, dilation, groups):
 * its options, output geometry and validation, and the dispatch constants its kernels share.
 */
import type { Tensor } from "../tensor.ts";
import { ACTIVATIONS } from "../../kernels/gemm/gemm.ts";

export type Pair = number | readonly [number, number];
/** Activations the convolution epilogue can fuse (their backward masks from the output). */
export type ConvActivation = "none" | "relu" | "relu6";
/** Their kernel codes: the GEMM's, since both backward through activation_grad.wgsl. */
export const CONV_ACTIVATIONS: Record<ConvActivation, number> = {
  none: ACTIVATIONS.none,
  relu: ACTIVATIONS.relu,
  relu6: ACTIVATIONS.relu6,
};

export interface Conv2dOptions {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  groups?: number;
  /** [Cout], added per output channel. */
  bias?: Tensor;
  /** Same shape as the output, added before the activation (a residual connection). */
  residual?: Tensor;
  activation?: ConvActivation;
}

/** Shapes of one channels-last convolution. */
export interface ConvGeometry {
  n: number;
  h: number;
  w: number;
  cin: number;
  cout: number;
  kh: number;
  kw: number;
  oh: number;
  ow: number;
  stride: [number, number];
  pad: [number, number];
  dil: [number, number];
  groups: number;
}

function pair(name: string, v: Pair, min: number): [number, number] {
  const p: [number, number] = typeof v === "number" ? [v, v] : [v[0], v[1]];
  if (p.some((d) => !Number.isInteger(d) || d < min)) {
    throw new Error(`conv2d: ${name} must be integers >= ${min}, got ${p}`);
  }
  return p;
}

/** Validates a channels-last input [N, H, W, Cin] against a weight [Cout, Cin/groups, KH, KW]. */
export function convGeometry(
  xShape: readonly number[],
  wShape: readonly number[],
  opts: Conv2dOptions = {},
): ConvGeometry {
  if (xShape.length !== 4) throw new Error(`conv2d: input must be 4-D, got [${xShape}]`);
  if (wShape.length !== 4) throw new Error(`conv2d: weight must be 4-D, got [${wShape}]`);
  const [n, h, w, cin] = xShape;
  const [cout, cinG, kh, kw] = wShape;
  const groups = opts.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1 || cin % groups || cout % groups) {
    throw new Error(`conv2d: groups ${groups} must divide Cin ${cin} and Cout ${cout}`);
  }
  if (cinG !== cin / groups) {
    throw new Error(
      `conv2d: weight [${wShape}] expects ${cinG * groups} input channels, input has ${cin}`,
    );
  }
  const stride = pair("stride", opts.stride ?? 1, 1);
  const pad = pair("padding", opts.padding ?? 0, 0);
  const dil = pair("dilation", opts.dilation ?? 1, 1);
  const oh = Math.floor((h + 2 * pad[0] - dil[0] * (kh - 1) - 1) / stride[0]) + 1;
  const ow = Math.floor((w + 2 * pad[1] - dil[1] * (kw - 1) - 1) / stride[1]) + 1;
  if (oh < 1 || ow < 1) {
    throw new Error(`conv2d: kernel ${kh}x${kw} does not fit input ${h}x${w} with this padding`);
  }
  return { n, h, w, cin, cout, kh, kw, oh, ow, stride, pad, dil, groups };
}

export const round4 = (n: number) => Math.ceil(n / 4) * 4;

/**
 * Invocations per workgroup of every convolution kernel, whatever the channel count: 8,
 * llvmpipe's SIMD width (measured fastest there; one size also keeps the number of compiled
 * pipeline variants, seconds each on llvmpipe, small).
 */
export const CONV_LANES = 8;

/** Workgroups per dispatch dimension (WebGPU's guaranteed minimum). */
export const MAX_GROUPS = 65535;

/** One filter per channel (groups = Cin = Cout): the dedicated depthwise kernels. */
export function isDepthwise(g: ConvGeometry): boolean {
  return g.groups > 1 && g.groups === g.cin && g.cout === g.cin;
}
