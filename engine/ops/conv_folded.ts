/**
 * Evaluation-mode convolution with its BatchNorm folded in (PyTorch's `fuse_conv_bn_eval`), no
 * autograd: `foldConvBn` computes the folded weights in one kernel, either in PyTorch's layout
 * (for `conv2dNhwc`) or packed for the vec4 kernel; `conv2dFoldedRaw` runs a convolution on the
 * packed weights with bias, residual and activation fused.
 */
import { engine } from "../context.ts";
import { empty, type Tensor } from "../tensor.ts";
import { foldBnSpec } from "../../kernels/conv/fold_bn.ts";
import { conv2dPackedSpec, CONV_PACKED_TN, CONV_TM } from "../../kernels/conv/conv2d.ts";
import {
  CONV_ACTIVATIONS,
  CONV_LANES,
  type ConvGeometry,
  MAX_GROUPS,
  round4,
} from "./conv_geometry.ts";
import type { ConvEpilogue } from "./conv_epilogue.ts";

/** A BatchNorm's evaluation-mode state (`BatchNorm2d` has these fields). */
export interface FoldableBatchNorm {
  weight?: Tensor;
  bias?: Tensor;
  runningMean: Tensor;
  runningVar: Tensor;
  eps?: number;
}

/** Whether `conv2dFoldedRaw` runs this convolution (else: PyTorch layout and `conv2dNhwc`). */
export function canPack(g: ConvGeometry): boolean {
  return g.groups === 1 && g.cin % 4 === 0;
}

/**
 * The folded weights and bias: W' = W·γ/√(running_var + eps) per output channel,
 * b' = (b − running_mean)·γ/√(running_var + eps) + β (b = 0 without a conv bias); without
 * `bn`, W and b (or zeros) re-laid. `packed`: W' as [KH·KW, Cin, Cout rounded up to 4] for
 * `conv2dFoldedRaw`, else PyTorch's [Cout, Cin/groups, KH, KW].
 */
export function foldConvBn(
  weight: Tensor,
  bias: Tensor | undefined,
  bn: FoldableBatchNorm | undefined,
  packed: boolean,
): { weight: Tensor; bias: Tensor } {
  const [cout, cin, kh, kw] = weight.shape;
  const taps = kh * kw;
  const coutPad = round4(cout);
  const vectors = {
    bias,
    "bn weight": bn?.weight,
    "bn bias": bn?.bias,
    running_mean: bn?.runningMean,
    running_var: bn?.runningVar,
  };
  for (const [name, t] of Object.entries(vectors)) {
    if (t && (t.dtype !== "f32" || t.size !== cout)) {
      throw new Error(`fold_bn: ${name} must be f32[${cout}], got ${t.dtype}[${t.shape}]`);
    }
  }
  if (weight.dtype !== "f32" || weight.rank !== 4) {
    throw new Error(`fold_bn: weight must be f32 [Cout, Cin, KH, KW], got [${weight.shape}]`);
  }
  const w = empty(packed ? [taps, cin, coutPad] : weight.shape);
  const b = empty([cout]);
  const dummy = engine().dummy;
  engine().dispatch(foldBnSpec, {
    buffers: {
      w: weight.buffer,
      conv_bias: bias?.buffer ?? dummy,
      gamma: bn?.weight?.buffer ?? dummy,
      beta: bn?.bias?.buffer ?? dummy,
      running_mean: bn?.runningMean.buffer ?? dummy,
      running_var: bn?.runningVar.buffer ?? dummy,
      out_w: w.buffer,
      out_b: b.buffer,
    },
    uniforms: { cout, cin, taps, cout_pad: coutPad, eps: bn?.eps ?? 1e-5, _p0: 0, _p1: 0, _p2: 0 },
    overrides: {
      WG: 64,
      HAS_BN: +!!bn,
      HAS_AFFINE: +!!bn?.weight,
      HAS_BIAS: +!!bias,
      PACKED: +packed,
    },
    workgroups: [Math.ceil((packed ? coutPad : cout) / 64), cin],
    label: "fold_bn",
  });
  return { weight: w, bias: b };
}

/**
 * act(conv(x, W') + bias + residual) for x [N, H, W, Cin] and W' packed by `foldConvBn`
 * (`canPack(g)` must hold) → [N, OH, OW, Cout].
 */
export function conv2dFoldedRaw(
  x: Tensor,
  packed: Tensor,
  g: ConvGeometry,
  e: ConvEpilogue = {},
): Tensor {
  if (!canPack(g)) throw new Error(`conv2d_packed: needs groups 1 and Cin % 4 == 0`);
  const outShape = [g.n, g.oh, g.ow, g.cout];
  if (e.residual && e.residual.shape.join() !== outShape.join()) {
    throw new Error(
      `conv2d: residual [${e.residual.shape}] must be the output shape [${outShape}]`,
    );
  }
  for (const t of [x, packed, e.bias, e.residual]) {
    if (t && t.dtype !== "f32") throw new Error(`conv2d: expects f32 tensors, got ${t.dtype}`);
  }
  const cout4 = Math.ceil(g.cout / 4);
  if (packed.shape.join() !== [g.kh * g.kw, g.cin, 4 * cout4].join()) {
    throw new Error(`conv2d_packed: packed weight [${packed.shape}] does not fit the geometry`);
  }
  const out = empty(outShape);
  const pixels = g.n * g.oh * g.ow;
  const chunk = MAX_GROUPS * CONV_TM;
  for (let base = 0; base < pixels; base += chunk) {
    engine().dispatch(conv2dPackedSpec, {
      buffers: {
        src: x.buffer,
        wp: packed.buffer,
        bias: e.bias?.buffer ?? engine().dummy,
        residual: e.residual?.buffer ?? engine().dummy,
        dst: out.buffer,
      },
      uniforms: {
        src_h: g.h,
        src_w: g.w,
        src_c4: g.cin / 4,
        dst_h: g.oh,
        dst_w: g.ow,
        dst_c: g.cout,
        cout4,
        kh: g.kh,
        kw: g.kw,
        pixels,
        pixel_base: base,
        batch: g.n,
        stride: g.stride,
        pad: g.pad,
        dil: g.dil,
        _p0: 0,
        _p1: 0,
      },
      overrides: {
        WG: CONV_LANES,
        HAS_BIAS: +!!e.bias,
        HAS_RESIDUAL: +!!e.residual,
        ACT: CONV_ACTIVATIONS[e.act ?? "none"],
      },
      workgroups: [
        Math.ceil(cout4 / (CONV_LANES * CONV_PACKED_TN)),
        Math.ceil(Math.min(chunk, pixels - base) / CONV_TM),
        1,
      ],
      label: "conv2d_packed",
    });
  }
  return out;
}
