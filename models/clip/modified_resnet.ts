/**
 * OpenAI CLIP's ModifiedResNet image tower (RN50 family): a 3-conv stem with an average pool,
 * Bottleneck stages whose strided blocks average-pool before a stride-1 path (anti-aliasing),
 * and attention pooling instead of a global average. Names follow `clip/model.py`.
 *
 * Activations are channels-last [N, H, W, C]. In evaluation mode each BatchNorm is folded into
 * the conv before it, so conv + BN + ReLU (+ the residual add) is one fused convolution.
 */
import { Module } from "../../engine/nn/module.ts";
import { BatchNorm2d, Conv2d, convBn } from "../../engine/nn/conv.ts";
import type { Rng } from "../../engine/rng.ts";
import { keep, scope, type Tensor } from "../../engine/tensor.ts";
import { needsGrad } from "../../engine/autograd.ts";
import { permute } from "../../engine/ops/permute.ts";
import type { ConvActivation } from "../../engine/ops/conv_geometry.ts";
import { foldConvBn } from "../../engine/ops/conv_folded.ts";
import { avgPool2dNhwc } from "../../engine/ops/pool.ts";
import { AttentionPool2d } from "./attention_pool.ts";

/** Bottleneck output channels per `planes`. */
export const EXPANSION = 4;

/**
 * A bias-free conv and the BatchNorm after it, under the reference's names. In evaluation
 * mode without autograd the BatchNorm is folded into the conv once and the folded weights are
 * reused; a training-mode or autograd forward (after which weights or statistics may change)
 * runs the pair unfolded and drops them.
 */
class ConvBn {
  readonly conv: Conv2d;
  readonly bn: BatchNorm2d;
  #folded: { weight: Tensor; bias: Tensor } | undefined;

  constructor(
    parent: Module,
    [conv, bn]: [string, string],
    [cin, cout, kernel]: [number, number, number],
    stride: number,
    rng?: Rng,
  ) {
    const padding = (kernel - 1) / 2;
    this.conv = parent.child(
      conv,
      new Conv2d(cin, cout, kernel, { stride, padding, bias: false, rng }),
    );
    this.bn = parent.child(bn, new BatchNorm2d(cout));
  }

  /** Drops the folded weights (after the parameters or running statistics change). */
  unfold(): void {
    this.#folded?.weight.dispose();
    this.#folded?.bias.dispose();
    this.#folded = undefined;
  }

  /** x [N, H, W, Cin] → act(BN(conv(x)) + residual), in evaluation mode one fused conv. */
  forward(x: Tensor, activation: ConvActivation, residual?: Tensor): Tensor {
    const params = [x, this.conv.weight, this.bn.weight, this.bn.bias, residual];
    if (this.bn.training || needsGrad(params)) {
      this.unfold();
      return convBn(x, this.conv, this.bn, { residual, activation });
    }
    if (!this.#folded) {
      const { weight, bias } = foldConvBn(this.conv.weight, undefined, this.bn, false);
      this.#folded = { weight: keep(weight), bias: keep(bias) };
    }
    const { weight, bias } = this.#folded;
    return this.conv.forwardWith(x, weight, bias, { residual, activation });
  }
}

/** `downsample`: avg-pool (the reference's "-1", no parameters), 1×1 conv "0", BatchNorm "1". */
class Downsample extends Module {
  readonly convBn: ConvBn;

  constructor(cin: number, cout: number, readonly stride: number, rng?: Rng) {
    super();
    this.convBn = new ConvBn(this, ["0", "1"], [cin, cout, 1], 1, rng);
  }

  forward(x: Tensor): Tensor {
    const pooled = this.stride > 1 ? avgPool2dNhwc(x, this.stride) : x;
    return this.convBn.forward(pooled, "none");
  }
}

export class Bottleneck extends Module {
  readonly convBns: [ConvBn, ConvBn, ConvBn];
  readonly downsample: Downsample | undefined;

  constructor(inplanes: number, planes: number, readonly stride = 1, rng?: Rng) {
    super();
    const out = planes * EXPANSION;
    this.convBns = [
      new ConvBn(this, ["conv1", "bn1"], [inplanes, planes, 1], 1, rng),
      new ConvBn(this, ["conv2", "bn2"], [planes, planes, 3], 1, rng),
      new ConvBn(this, ["conv3", "bn3"], [planes, out, 1], 1, rng),
    ];
    if (stride > 1 || inplanes !== out) {
      this.downsample = this.child("downsample", new Downsample(inplanes, out, stride, rng));
    }
  }

  /** x [N, H, W, inplanes] → [N, H/stride, W/stride, planes·4]. */
  forward(x: Tensor): Tensor {
    const [c1, c2, c3] = this.convBns;
    return scope(() => {
      let y = c2.forward(c1.forward(x, "relu"), "relu");
      if (this.stride > 1) y = avgPool2dNhwc(y, this.stride);
      const identity = this.downsample ? this.downsample.forward(x) : x;
      return c3.forward(y, "relu", identity);
    });
  }
}

export interface ModifiedResNetOptions {
  layers: readonly [number, number, number, number];
  outputDim: number;
  heads: number;
  inputResolution: number;
  width: number;
  /** Random init (benchmarks); without it the tensors are zeros, to be loaded. */
  rng?: Rng;
}

export class ModifiedResNet extends Module {
  readonly stem: ConvBn[];
  readonly stages: Bottleneck[][] = [];
  readonly attnpool: AttentionPool2d;
  readonly inputResolution: number;

  constructor({ layers, outputDim, heads, inputResolution, width, rng }: ModifiedResNetOptions) {
    super();
    this.inputResolution = inputResolution;
    const half = width / 2;
    this.stem = [
      new ConvBn(this, ["conv1", "bn1"], [3, half, 3], 2, rng),
      new ConvBn(this, ["conv2", "bn2"], [half, half, 3], 1, rng),
      new ConvBn(this, ["conv3", "bn3"], [half, width, 3], 1, rng),
    ];
    let inplanes = width;
    layers.forEach((blocks, i) => {
      const planes = width * 2 ** i;
      // An `nn.Sequential`: blocks named "0", "1", ...
      const sequential = this.child(`layer${i + 1}`, new Module());
      const stage: Bottleneck[] = [];
      for (let b = 0; b < blocks; b++) {
        const block = new Bottleneck(inplanes, planes, i > 0 && b === 0 ? 2 : 1, rng);
        stage.push(sequential.child(String(b), block));
        inplanes = planes * EXPANSION;
      }
      this.stages.push(stage);
    });
    // The ResNet feature width is width·32; the feature map is input/32 on a side.
    this.attnpool = this.child(
      "attnpool",
      new AttentionPool2d(inputResolution / 32, width * 32, heads, outputDim, rng),
    );
  }

  #convBns(): ConvBn[] {
    const blocks = this.stages.flat();
    return [
      ...this.stem,
      ...blocks.flatMap((b) => [...b.convBns, ...(b.downsample ? [b.downsample.convBn] : [])]),
    ];
  }

  /**
   * Drops the folded conv weights: they are recomputed on the next evaluation-mode forward.
   * Call after parameters or running statistics change (`CLIP.loadStateDict` does).
   */
  unfold(): void {
    for (const c of this.#convBns()) c.unfold();
  }

  override dispose(): void {
    this.unfold();
    super.dispose();
  }

  /** images [B, 3, R, R] → features [B, outputDim]. */
  forward(images: Tensor): Tensor {
    let x = permute(images, [0, 2, 3, 1]); // NHWC
    for (const c of this.stem) x = c.forward(x, "relu");
    x = avgPool2dNhwc(x, 2);
    for (const block of this.stages.flat()) x = block.forward(x);
    return this.attnpool.forward(x);
  }
}
