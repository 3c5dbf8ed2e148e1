/**
 * Depthwise convolution kernels (one filter per channel) on channels-last tensors: forward with
 * the epilogue fused, input gradient, weight gradient. No autograd.
 */
import { engine } from "../context.ts";
import { empty, type Tensor } from "../tensor.ts";
import {
  DEPTHWISE_TM,
  depthwiseSpec,
  depthwiseWeightGradSpec,
} from "../../kernels/conv/depthwise.ts";
import {
  CONV_ACTIVATIONS,
  CONV_LANES,
  type ConvGeometry,
  MAX_GROUPS,
  round4,
} from "./conv_geometry.ts";
import type { ConvEpilogue } from "./conv_epilogue.ts";

function depthwiseDispatch(
  src: Tensor,
  w: Tensor,
  g: ConvGeometry,
  transposed: boolean,
  epilogue: ConvEpilogue = {},
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
  epilogue: ConvEpilogue = {},
): Tensor {
  return depthwiseDispatch(x, weight, g, false, epilogue);
}

export function depthwiseInputGradRaw(dy: Tensor, weight: Tensor, g: ConvGeometry): Tensor {
  return depthwiseDispatch(dy, weight, g, true);
}

/**
 * Depthwise weight gradient, one workgroup row over all images (channel blocks × taps keep a
 * CPU adapter busy; the kernel can also sum image chunks, for a GPU to add in a fixed order).
 */
export function depthwiseWeightGradRaw(x: Tensor, dy: Tensor, g: ConvGeometry): Tensor {
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
