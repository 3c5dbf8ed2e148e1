/**
 * `Conv2d` and `BatchNorm2d`, PyTorch's modules with their state-dict names (`weight`, `bias`,
 * `running_mean`, `running_var`, `num_batches_tracked`), running on channels-last activations
 * [N, H, W, C] (the layout of the engine's convolution kernels). `convBn` runs a Conv2d →
 * BatchNorm2d pair, folding the BatchNorm into the convolution in evaluation mode.
 */
import { conv2dNhwc } from "../ops/conv.ts";
import type { ConvActivation, Pair } from "../ops/conv_geometry.ts";
import { batchNormNhwc } from "../ops/batch_norm.ts";
import { canPack, conv2dFoldedRaw, foldConvBn } from "../ops/conv_folded.ts";
import { convGeometry } from "../ops/conv_geometry.ts";
import { full } from "../ops/elementwise.ts";
import { concat, slice } from "../ops/narrow.ts";
import { engine } from "../context.ts";
import { LimitError } from "../errors.ts";
import { needsGrad } from "../autograd.ts";
import { type Tensor, tensor } from "../tensor.ts";
import type { Rng } from "../rng.ts";
import { Module } from "./module.ts";
import { normalInit, uniformInit } from "./init.ts";

export interface Conv2dOptions {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  groups?: number;
  bias?: boolean;
  /**
   * With an rng the weights are drawn: "kaiming_normal_fan_out" (torchvision's ResNet and
   * MobileNetV2: N(0, 2/fan_out), bias zeros) or "default" (PyTorch's kaiming_uniform(a=√5):
   * U(±1/√fan_in), bias the same bound). Without an rng they are zeros, to be loaded.
   */
  init?: "kaiming_normal_fan_out" | "default";
  rng?: Rng;
}

const pairOf = (v: Pair): [number, number] => typeof v === "number" ? [v, v] : [v[0], v[1]];

export class Conv2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | undefined;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly dilation: [number, number];
  readonly groups: number;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: Pair,
    opts: Conv2dOptions = {},
  ) {
    super();
    this.kernelSize = pairOf(kernelSize);
    this.stride = pairOf(opts.stride ?? 1);
    this.padding = pairOf(opts.padding ?? 0);
    this.dilation = pairOf(opts.dilation ?? 1);
    this.groups = opts.groups ?? 1;
    if (inChannels % this.groups || outChannels % this.groups) {
      throw new Error(`Conv2d: groups ${this.groups} must divide ${inChannels} and ${outChannels}`);
    }
    const [kh, kw] = this.kernelSize;
    const fanIn = (inChannels / this.groups) * kh * kw;
    const fanOut = outChannels * kh * kw;
    const n = outChannels * fanIn;
    const { rng } = opts;
    const kaiming = (opts.init ?? "default") === "kaiming_normal_fan_out";
    const bound = 1 / Math.sqrt(fanIn);
    const w = kaiming ? normalInit(n, Math.sqrt(2 / fanOut), rng) : uniformInit(n, bound, rng);
    this.weight = this.param("weight", tensor(w, [outChannels, inChannels / this.groups, kh, kw]));
    this.bias = opts.bias
      ? this.param(
        "bias",
        tensor(kaiming ? new Float32Array(outChannels) : uniformInit(outChannels, bound, rng), [
          outChannels,
        ]),
      )
      : undefined;
  }

  /** x [N, H, W, Cin] → [N, OH, OW, Cout], with an optional fused residual and activation. */
  forward(x: Tensor, epilogue: { residual?: Tensor; activation?: ConvActivation } = {}): Tensor {
    return conv2dNhwc(x, this.weight, { ...this.#geometry(), bias: this.bias, ...epilogue });
  }

  #geometry() {
    return {
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
      groups: this.groups,
    };
  }

  /** The convolution with other weights (e.g. a folded BatchNorm) and this geometry. */
  forwardWith(
    x: Tensor,
    weight: Tensor,
    bias: Tensor | undefined,
    epilogue: { residual?: Tensor; activation?: ConvActivation } = {},
  ): Tensor {
    return conv2dNhwc(x, weight, { ...this.#geometry(), bias, ...epilogue });
  }
}

export interface BatchNorm2dOptions {
  eps?: number;
  momentum?: number;
  affine?: boolean;
}

export class BatchNorm2d extends Module {
  readonly weight: Tensor | undefined;
  readonly bias: Tensor | undefined;
  readonly runningMean: Tensor;
  readonly runningVar: Tensor;
  readonly numBatchesTracked: Tensor;
  readonly eps: number;
  readonly momentum: number;

  constructor(readonly numFeatures: number, opts: BatchNorm2dOptions = {}) {
    super();
    this.eps = opts.eps ?? 1e-5;
    this.momentum = opts.momentum ?? 0.1;
    const affine = opts.affine ?? true;
    this.weight = affine ? this.param("weight", full([numFeatures], 1)) : undefined;
    this.bias = affine ? this.param("bias", full([numFeatures], 0)) : undefined;
    this.runningMean = this.buffer("running_mean", full([numFeatures], 0));
    this.runningVar = this.buffer("running_var", full([numFeatures], 1));
    // PyTorch stores an int64 scalar; checkpoints load it as i32 (see nn/load.ts).
    this.numBatchesTracked = this.buffer(
      "num_batches_tracked",
      tensor(new Int32Array(1), [], "i32"),
    );
  }

  /**
   * x [..., C] (channels last) → same shape; batch statistics (and a running-stat update) in
   * training mode, running statistics in evaluation mode. Optional fused residual + activation.
   */
  forward(x: Tensor, epilogue: { residual?: Tensor; activation?: ConvActivation } = {}): Tensor {
    return batchNormNhwc(x, this.weight, this.bias, {
      training: this.training,
      runningMean: this.runningMean,
      runningVar: this.runningVar,
      numBatchesTracked: this.numBatchesTracked,
      momentum: this.momentum,
      eps: this.eps,
      ...epilogue,
    });
  }
}

/**
 * bn(conv(x)) with the activation (and a residual added before it) fused. In evaluation mode,
 * when nothing needs a gradient, the BatchNorm is folded into the convolution's weights (one
 * kernel, per call: the weights and statistics may have changed since the last one) and the
 * convolution runs on them with the epilogue fused (conv2d_packed.wgsl) where it can.
 */
export function convBn(
  x: Tensor,
  conv: Conv2d,
  bn: BatchNorm2d,
  epilogue: { residual?: Tensor; activation?: ConvActivation } = {},
): Tensor {
  const params = [x, conv.weight, conv.bias, bn.weight, bn.bias, epilogue.residual];
  if (bn.training || needsGrad(params)) {
    const y = conv.forward(x);
    const out = bn.forward(y, epilogue);
    y.dispose();
    return out;
  }
  const g = convGeometry(x.shape, conv.weight.shape, conv);
  const packed = canPack(g);
  const folded = foldConvBn(conv.weight, conv.bias, bn, packed);
  const { residual, activation: act } = epilogue;
  const out = packed
    ? conv2dFoldedRaw(x, folded.weight, g, { bias: folded.bias, residual, act })
    : conv.forwardWith(x, folded.weight, folded.bias, epilogue);
  folded.weight.dispose();
  folded.bias.dispose();
  return out;
}

/**
 * Runs `fn` on the batch in chunks of images small enough that an activation of
 * `bytesPerImage` per image stays within the device's largest storage binding (128 MiB on
 * llvmpipe: ResNet-18's 64×112×112 stem output for 64 images is 205 MB), and concatenates the
 * results along dim 0. BatchNorm's batch statistics need the whole batch, so `training`
 * refuses to split.
 */
export function inBatchChunks(
  x: Tensor,
  bytesPerImage: number,
  training: boolean,
  fn: (xs: Tensor) => Tensor,
): Tensor {
  const limit = engine().gpu.limits.maxStorageBufferBindingSize ?? 2 ** 27;
  const n = x.shape[0];
  const per = Math.max(1, Math.floor(limit / bytesPerImage));
  if (per >= n) return fn(x);
  if (training) {
    throw new LimitError(
      `batch of ${n}: an activation would exceed the device's ${limit}-byte binding limit ` +
        `(at most ${per} images per training batch at this size)`,
    );
  }
  const parts: Tensor[] = [];
  for (let start = 0; start < n; start += per) {
    const xs = slice(x, 0, start, Math.min(n, start + per));
    parts.push(fn(xs));
    xs.dispose();
  }
  const out = concat(parts, 0);
  for (const p of parts) p.dispose();
  return out;
}
