/**
 * The convolution epilogue on channels-last tensors: act(x + bias + residual) forward, and the
 * bias gradient (the activation's is engine/ops/activation_grad.ts). No autograd.
 */
import { engine } from "../context.ts";
import { empty, type Tensor } from "../tensor.ts";
import { biasActSpec } from "../../kernels/conv/conv2d.ts";
import { CONV_ACTIVATIONS, type ConvActivation } from "./conv_geometry.ts";
import { reduceRaw } from "./reduce.ts";
import { reshape } from "./shape.ts";

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

/** Per-channel sum of a channels-last tensor [..., C] → [C] (the bias gradient). */
export function channelSumRaw(t: Tensor): Tensor {
  const c = t.shape[t.rank - 1];
  const flat = reshape(t, [t.size / c, c]);
  const s = reduceRaw("sum", flat, [0]);
  flat.dispose();
  return s;
}
