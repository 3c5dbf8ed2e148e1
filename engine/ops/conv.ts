/**
 * 2-D convolution (PyTorch `F.conv2d` semantics: stride, padding, dilation, groups), forward and
 * backward. The kernels work on channels-last tensors [N, H, W, C] (`conv2dNhwc`, what the
 * models use); `conv2d` takes NCHW like PyTorch and permutes around them. Weights keep
 * PyTorch's layout [Cout, Cin/groups, KH, KW] and are re-laid per call for the kernels.
 */
import { engine } from "../context.ts";
import { alias, empty, type Tensor } from "../tensor.ts";
import { needsGrad, record } from "../autograd.ts";
import {
  biasActSpec,
  conv2dSpec,
  conv2dWeightGradSpec,
  CONV_TM,
  CONV_TN,
  WEIGHT_GRAD_TM,
} from "../../kernels/conv/conv2d.ts";
import { activationGradSpec } from "../../kernels/gemm/activation_grad.ts";
import {
  DEPTHWISE_TM,
  depthwiseSpec,
  depthwiseWeightGradSpec,
} from "../../kernels/conv/depthwise.ts";
import { grid1d } from "./grid.ts";
import { permute } from "./index.ts";
import { reduceRaw } from "./reduce.ts";
import { reshape } from "./shape.ts";

export type Pair = number | readonly [number, number];
/** Activations the convolution epilogue can fuse (their backward masks from the output). */
export type ConvActivation = "none" | "relu" | "relu6";
export const CONV_ACTIVATIONS: Record<ConvActivation, number> = { none: 0, relu: 1, relu6: 2 };

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

const round4 = (n: number) => Math.ceil(n / 4) * 4;

/**
 * Invocations per workgroup of every convolution kernel, whatever the channel count: 8,
 * llvmpipe's SIMD width (measured fastest there; one size also keeps the number of compiled
 * pipeline variants, seconds each on llvmpipe, small).
 */
const CONV_LANES = 8;

const MAX_GROUPS = 65535;

interface ConvDispatch {
  src: Tensor;
  /** PyTorch layout [Cout, Cin/groups, KH, KW], read in place. */
  w: Tensor;
  dstShape: number[]; // [N, DH, DW, DC]
  srcHwc: [number, number, number];
  redC: number;
  laneC: number;
  g: ConvGeometry;
  transposed: boolean;
}

export interface ConvEpilogue {
  bias?: Tensor;
  residual?: Tensor;
  act?: ConvActivation;
}

/** act(x + bias[c] + residual) of a channels-last tensor, as a new tensor (no autograd). */
export function biasActRaw(x: Tensor, e: ConvEpilogue): Tensor {
  const channels = x.shape[x.rank - 1];
  const pixels = x.size / channels;
  const y = empty(x.shape);
  // Pixels along x (64 per workgroup, ≤ 65535 workgroups a dispatch), 4-channel blocks along y.
  const per = 65535 * 64;
  for (let base = 0; base < pixels; base += per) {
    const count = Math.min(per, pixels - base);
    engine().dispatch(biasActSpec, {
      buffers: {
        x: x.buffer,
        bias: e.bias?.buffer ?? engine().dummy,
        residual: e.residual?.buffer ?? engine().dummy,
        y: y.buffer,
      },
      uniforms: { pixels, channels, pixel_base: base, chunk_pixels: count },
      overrides: {
        WG: 64,
        HAS_BIAS: +!!e.bias,
        HAS_RESIDUAL: +!!e.residual,
        ACT: CONV_ACTIVATIONS[e.act ?? "none"],
      },
      workgroups: [Math.ceil(count / 64), Math.ceil(channels / 4)],
      label: "conv2d_bias_act",
    });
  }
  return y;
}

function convDispatch(d: ConvDispatch): Tensor {
  const out = empty(d.dstShape);
  const [n, dh, dw, dc] = d.dstShape;
  const pixels = n * dh * dw;
  const wg = CONV_LANES;
  const gx = Math.ceil(d.laneC / (wg * 4 * CONV_TN));
  const taps = d.g.kh * d.g.kw;
  const rcFwd = d.g.cin / d.g.groups;
  // Forward: lanes on Cout, reduction on Cin; transposed: the other way round.
  const [wLane, wRed] = d.transposed ? [taps, rcFwd * taps] : [rcFwd * taps, taps];
  const chunk = MAX_GROUPS * CONV_TM;
  for (let base = 0; base < pixels; base += chunk) {
    engine().dispatch(conv2dSpec, {
      buffers: { src: d.src.buffer, w: d.w.buffer, dst: out.buffer },
      uniforms: {
        src_h: d.srcHwc[0],
        src_w: d.srcHwc[1],
        src_c: d.srcHwc[2],
        dst_h: dh,
        dst_w: dw,
        dst_c: dc,
        red_c: d.redC,
        lane_c: d.laneC,
        kh: d.g.kh,
        kw: d.g.kw,
        pixels,
        stride: d.g.stride,
        pad: d.g.pad,
        dil: d.g.dil,
        pixel_base: base,
        batch: n,
        w_group: (d.g.cout / d.g.groups) * rcFwd * taps,
        w_lane: wLane,
        w_red: wRed,
        _p0: 0,
      },
      overrides: { WG: wg, TRANSPOSED: +d.transposed },
      workgroups: [gx, Math.ceil(Math.min(chunk, pixels - base) / CONV_TM), d.g.groups],
      label: d.transposed ? "conv2d_input_grad" : "conv2d",
    });
  }
  return out;
}

/** Forward convolution without autograd: x [N, H, W, Cin] → [N, OH, OW, Cout]. */
export function conv2dNhwcRaw(
  x: Tensor,
  weight: Tensor,
  g: ConvGeometry,
  epilogue: ConvEpilogue = {},
): Tensor {
  const out = convDispatch({
    src: x,
    w: weight,
    dstShape: [g.n, g.oh, g.ow, g.cout],
    srcHwc: [g.h, g.w, g.cin],
    redC: g.cin / g.groups,
    laneC: g.cout / g.groups,
    g,
    transposed: false,
  });
  if (!epilogue.bias && !epilogue.residual && (epilogue.act ?? "none") === "none") return out;
  const y = biasActRaw(out, epilogue);
  out.dispose();
  return y;
}

/** d loss / d input of a convolution: dy [N, OH, OW, Cout] → [N, H, W, Cin]. */
export function conv2dInputGradRaw(dy: Tensor, weight: Tensor, g: ConvGeometry): Tensor {
  return convDispatch({
    src: dy,
    w: weight,
    dstShape: [g.n, g.h, g.w, g.cin],
    srcHwc: [g.oh, g.ow, g.cout],
    redC: g.cout / g.groups,
    laneC: g.cin / g.groups,
    g,
    transposed: true,
  });
}

/** d loss / d weight: x [N, H, W, Cin], dy [N, OH, OW, Cout] → [Cout, Cin/groups, KH, KW]. */
export function conv2dWeightGradRaw(x: Tensor, dy: Tensor, g: ConvGeometry): Tensor {
  const rc = g.cin / g.groups, lc = g.cout / g.groups;
  const dw = empty([g.cout, rc, g.kh, g.kw]);
  const wg = CONV_LANES;
  const rBlocks = Math.ceil(rc / WEIGHT_GRAD_TM);
  const taps = g.kh * g.kw;
  // Few reduction channels (a 3-channel stem): rows over (tap, channel) pairs, none idle.
  const flat = rc < WEIGHT_GRAD_TM / 2 && taps > 1;
  const rowBlocks = flat ? Math.ceil((taps * rc) / WEIGHT_GRAD_TM) : taps * rBlocks;
  engine().dispatch(conv2dWeightGradSpec, {
    buffers: { src: x.buffer, dy: dy.buffer, dw: dw.buffer },
    uniforms: {
      src_h: g.h,
      src_w: g.w,
      src_c: g.cin,
      dst_h: g.oh,
      dst_w: g.ow,
      dst_c: g.cout,
      red_c: rc,
      lane_c: lc,
      kh: g.kh,
      kw: g.kw,
      batch: g.n,
      r_blocks: rBlocks,
      stride: g.stride,
      pad: g.pad,
      dil: g.dil,
      k_rows: taps * rc,
      _p0: 0,
    },
    overrides: { WG: wg, FLAT_ROWS: +flat },
    workgroups: [Math.ceil(round4(lc) / (wg * 4 * CONV_TN)), rowBlocks, g.groups],
    label: "conv2d_weight_grad",
  });
  return dw;
}

/** One filter per channel (groups = Cin = Cout): the dedicated depthwise kernels. */
export function isDepthwise(g: ConvGeometry): boolean {
  return g.groups > 1 && g.groups === g.cin && g.cout === g.cin;
}

function depthwiseDispatch(
  src: Tensor,
  w: Tensor,
  g: ConvGeometry,
  transposed: boolean,
  epilogue: { bias?: Tensor; residual?: Tensor; act?: ConvActivation } = {},
): Tensor {
  const [sh, sw, dh, dw] = transposed ? [g.oh, g.ow, g.h, g.w] : [g.h, g.w, g.oh, g.ow];
  const out = empty([g.n, dh, dw, g.cin]);
  const pixels = g.n * dh * dw;
  const cp = round4(g.cin);
  const wg = CONV_LANES;
  const chunk = MAX_GROUPS * DEPTHWISE_TM;
  for (let base = 0; base < pixels; base += chunk) {
    engine().dispatch(depthwiseSpec, {
      buffers: {
        src: src.buffer,
        w: w.buffer,
        bias: epilogue.bias?.buffer ?? engine().dummy,
        residual: epilogue.residual?.buffer ?? engine().dummy,
        dst: out.buffer,
      },
      uniforms: {
        src_h: sh,
        src_w: sw,
        dst_h: dh,
        dst_w: dw,
        channels: g.cin,
        _p0: 0,
        kh: g.kh,
        kw: g.kw,
        pixels,
        pixel_base: base,
        stride: g.stride,
        pad: g.pad,
        dil: g.dil,
      },
      overrides: {
        WG: wg,
        TRANSPOSED: +transposed,
        HAS_BIAS: +!!epilogue.bias,
        HAS_RESIDUAL: +!!epilogue.residual,
        ACT: CONV_ACTIVATIONS[epilogue.act ?? "none"],
      },
      workgroups: [
        Math.ceil(cp / (wg * 4)),
        Math.ceil(Math.min(chunk, pixels - base) / DEPTHWISE_TM),
      ],
      label: transposed ? "depthwise_conv2d_input_grad" : "depthwise_conv2d",
    });
  }
  return out;
}

/** Depthwise forward without autograd: x [N, H, W, C] → [N, OH, OW, C]. */
export function depthwiseNhwcRaw(
  x: Tensor,
  weight: Tensor,
  g: ConvGeometry,
  epilogue: { bias?: Tensor; residual?: Tensor; act?: ConvActivation } = {},
): Tensor {
  return depthwiseDispatch(x, weight, g, false, epilogue);
}

function depthwiseInputGradRaw(dy: Tensor, weight: Tensor, g: ConvGeometry): Tensor {
  return depthwiseDispatch(dy, weight, g, true);
}

/**
 * Depthwise weight gradient, one workgroup row over all images (channel blocks × taps keep a
 * CPU adapter busy; the kernel can also sum image chunks, for a GPU to add in a fixed order).
 */
function depthwiseWeightGradRaw(x: Tensor, dy: Tensor, g: ConvGeometry): Tensor {
  const dw = empty([g.cin, 1, g.kh, g.kw]);
  const wg = CONV_LANES;
  engine().dispatch(depthwiseWeightGradSpec, {
    buffers: { x: x.buffer, dy: dy.buffer, partial: dw.buffer },
    uniforms: {
      src_h: g.h,
      src_w: g.w,
      dst_h: g.oh,
      dst_w: g.ow,
      channels: g.cin,
      kh: g.kh,
      kw: g.kw,
      batch: g.n,
      chunk: g.n,
      _p0: 0,
      _p1: 0,
      _p2: 0,
      stride: g.stride,
      pad: g.pad,
      dil: g.dil,
    },
    overrides: { WG: wg },
    workgroups: [Math.ceil(round4(g.cin) / (wg * 4)), 1, g.kh * g.kw],
    label: "depthwise_conv2d_weight_grad",
  });
  return dw;
}

/** g · act'(out), the gradient through a fused relu/relu6 (masked from the output). */
export function activationGradRaw(act: ConvActivation, g: Tensor, out: Tensor): Tensor {
  if (act === "none") throw new Error("activationGradRaw: no activation");
  const r = empty(g.shape);
  const { workgroups, groupsX } = grid1d(r.size, 256);
  engine().dispatch(activationGradSpec, {
    buffers: { g: g.buffer, x: out.buffer, out: r.buffer },
    uniforms: { n: r.size, groups_x: groupsX, _p0: 0, _p1: 0 },
    overrides: { ACT: CONV_ACTIVATIONS[act], WG: 256 },
    workgroups,
    label: `${act}_grad`,
  });
  return r;
}

/** Per-channel sum of a channels-last tensor [..., C] → [C] (the bias gradient). */
export function channelSumRaw(t: Tensor): Tensor {
  const c = t.shape[t.rank - 1];
  const flat = reshape(t, [t.size / c, c]);
  const s = reduceRaw("sum", flat, [0]);
  flat.dispose();
  return s;
}

/**
 * Convolution of a channels-last input: x [N, H, W, Cin], weight [Cout, Cin/groups, KH, KW]
 * (PyTorch layout) → [N, OH, OW, Cout], with optional fused bias, residual and relu/relu6.
 * Differentiable in x, weight, bias and residual.
 */
export function conv2dNhwc(x: Tensor, weight: Tensor, opts: Conv2dOptions = {}): Tensor {
  const g = convGeometry(x.shape, weight.shape, opts);
  const { bias, residual } = opts;
  const act = opts.activation ?? "none";
  if (bias && (bias.rank !== 1 || bias.size !== g.cout)) {
    throw new Error(`conv2d: bias [${bias.shape}] must be [${g.cout}]`);
  }
  const outShape = [g.n, g.oh, g.ow, g.cout];
  if (residual && residual.shape.join() !== outShape.join()) {
    throw new Error(`conv2d: residual [${residual.shape}] must be the output shape [${outShape}]`);
  }
  for (const t of [x, weight, bias, residual]) {
    if (t && t.dtype !== "f32") throw new Error(`conv2d: expects f32 tensors, got ${t.dtype}`);
  }
  const depthwise = isDepthwise(g);
  const out = depthwise
    ? depthwiseNhwcRaw(x, weight, g, { bias, residual, act })
    : conv2dNhwcRaw(x, weight, g, { bias, residual, act });
  if (!needsGrad([x, weight, bias, residual])) return out;
  return record(depthwise ? "depthwise_conv2d" : "conv2d", [x, weight, bias, residual], out, [
    x,
    weight,
    ...(act === "none" ? [] : [out]),
  ], (grad) => {
    const gz = act === "none" ? grad : activationGradRaw(act, grad, out);
    const inputGrad = depthwise ? depthwiseInputGradRaw : conv2dInputGradRaw;
    const weightGrad = depthwise ? depthwiseWeightGradRaw : conv2dWeightGradRaw;
    return [
      x.requiresGrad ? inputGrad(gz, weight, g) : null,
      weight.requiresGrad ? weightGrad(x, gz, g) : null,
      bias?.requiresGrad ? channelSumRaw(gz) : null,
      residual?.requiresGrad ? (act === "none" ? alias(gz) : gz) : null,
    ];
  });
}

const TO_NHWC = [0, 2, 3, 1];
const TO_NCHW = [0, 3, 1, 2];

/**
 * PyTorch `F.conv2d`: x [N, Cin, H, W], weight [Cout, Cin/groups, KH, KW], bias [Cout]
 * → [N, Cout, OH, OW]. (A residual, if given, is NCHW too.)
 */
export function conv2d(
  x: Tensor,
  weight: Tensor,
  bias?: Tensor,
  opts: Omit<Conv2dOptions, "bias"> = {},
): Tensor {
  if (x.rank !== 4) throw new Error(`conv2d: input must be 4-D NCHW, got [${x.shape}]`);
  const xl = permute(x, TO_NHWC);
  const rl = opts.residual && permute(opts.residual, TO_NHWC);
  const yl = conv2dNhwc(xl, weight, { ...opts, bias, residual: rl });
  const y = permute(yl, TO_NCHW);
  for (const t of [xl, rl, yl]) t?.dispose();
  return y;
}
