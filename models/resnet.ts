/**
 * torchvision's ResNet with BasicBlocks (`resnet18` = layers [2, 2, 2, 2]), module for module:
 * the state-dict names (`conv1.weight`, `layer2.0.downsample.1.running_var`, `fc.bias`, ...),
 * strides, padding and forward are torchvision's, so its checkpoints load by name. `width` is
 * conv1's channel count (64 in torchvision; stages use width·[1, 2, 4, 8]). Inputs are NCHW
 * [N, 3, H, W]; the network runs channels-last inside.
 */
import { BatchNorm2d, Conv2d, convBn, inBatchChunks } from "../engine/nn/conv.ts";
import { Linear } from "../engine/nn/linear.ts";
import { Module } from "../engine/nn/module.ts";
import { maxPool2dNhwc } from "../engine/ops/pool.ts";
import { permute } from "../engine/ops/permute.ts";
import { pooledFeatures } from "./pooled_features.ts";
import type { Rng } from "../engine/rng.ts";
import type { Tensor } from "../engine/tensor.ts";

export interface ResNetConfig {
  /** Classifier outputs; 0 builds the network without `fc` (a backbone for `features`). */
  numClasses?: number;
  /** conv1's output channels (torchvision: 64). */
  width?: number;
  /** BasicBlocks per stage (resnet18: [2, 2, 2, 2]). */
  layers?: readonly number[];
  /** Draws torchvision's init (kaiming_normal fan_out convs, BN 1/0, default Linear). */
  rng?: Rng;
}

function conv(inC: number, outC: number, k: number, stride: number, rng?: Rng): Conv2d {
  return new Conv2d(inC, outC, k, {
    stride,
    padding: (k - 1) >> 1,
    bias: false,
    init: "kaiming_normal_fan_out",
    rng,
  });
}

/** `downsample`: Sequential(conv1x1(stride), BatchNorm2d), named "0" and "1". */
class Downsample extends Module {
  readonly conv: Conv2d;
  readonly bn: BatchNorm2d;

  constructor(inC: number, outC: number, stride: number, rng?: Rng) {
    super();
    this.conv = this.child("0", conv(inC, outC, 1, stride, rng));
    this.bn = this.child("1", new BatchNorm2d(outC));
  }
}

export class BasicBlock extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly downsample: Downsample | undefined;

  constructor(inC: number, planes: number, stride: number, rng?: Rng) {
    super();
    this.conv1 = this.child("conv1", conv(inC, planes, 3, stride, rng));
    this.bn1 = this.child("bn1", new BatchNorm2d(planes));
    this.conv2 = this.child("conv2", conv(planes, planes, 3, 1, rng));
    this.bn2 = this.child("bn2", new BatchNorm2d(planes));
    this.downsample = stride !== 1 || inC !== planes
      ? this.child("downsample", new Downsample(inC, planes, stride, rng))
      : undefined;
  }

  /** relu(bn2(conv2(relu(bn1(conv1(x))))) + identity), channels-last. */
  forward(x: Tensor): Tensor {
    const identity = this.downsample ? convBn(x, this.downsample.conv, this.downsample.bn) : x;
    const h = convBn(x, this.conv1, this.bn1, { activation: "relu" });
    const out = convBn(h, this.conv2, this.bn2, { residual: identity, activation: "relu" });
    h.dispose();
    if (identity !== x) identity.dispose();
    return out;
  }
}

/** A stage: BasicBlocks named "0", "1", ... */
class Stage extends Module {
  readonly blocks: BasicBlock[] = [];

  constructor(inC: number, planes: number, count: number, stride: number, rng?: Rng) {
    super();
    for (let i = 0; i < count; i++) {
      const block = new BasicBlock(i === 0 ? inC : planes, planes, i === 0 ? stride : 1, rng);
      this.blocks.push(this.child(String(i), block));
    }
  }

  forward(x: Tensor): Tensor {
    let h = x;
    for (const b of this.blocks) {
      const next = b.forward(h);
      if (h !== x) h.dispose();
      h = next;
    }
    return h;
  }
}

export class ResNet extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly stages: Stage[] = [];
  readonly fc: Linear | undefined;
  /** Channels of the penultimate embedding (`features`). */
  readonly featureDim: number;
  readonly numClasses: number;

  constructor(cfg: ResNetConfig = {}) {
    super();
    const width = cfg.width ?? 64;
    const layers = cfg.layers ?? [2, 2, 2, 2];
    this.numClasses = cfg.numClasses ?? 1000;
    const { rng } = cfg;
    this.conv1 = this.child("conv1", conv(3, width, 7, 2, rng));
    this.bn1 = this.child("bn1", new BatchNorm2d(width));
    let inC = width;
    layers.forEach((count, i) => {
      const planes = width * 2 ** i;
      const stage = new Stage(inC, planes, count, i === 0 ? 1 : 2, rng);
      this.stages.push(this.child(`layer${i + 1}`, stage));
      inC = planes;
    });
    this.featureDim = inC;
    this.fc = this.numClasses > 0
      ? this.child("fc", new Linear(inC, this.numClasses, { rng: rng?.stream("fc") }))
      : undefined;
  }

  /** The penultimate embedding: NCHW images [N, 3, H, W] → [N, featureDim] (after avgpool). */
  features(x: Tensor): Tensor {
    if (x.rank !== 4 || x.shape[1] !== 3) {
      throw new Error(`resnet: input must be [N, 3, H, W], got [${x.shape}]`);
    }
    // The largest activation per image: the stem's conv1 output, width × (H/2) × (W/2).
    const [h, w] = [x.shape[2], x.shape[3]];
    const stemBytes = 4 * this.conv1.outChannels * Math.ceil(h / 2) * Math.ceil(w / 2);
    return inBatchChunks(x, stemBytes, this.training, (xs) => this.#features(xs));
  }

  #features(x: Tensor): Tensor {
    const xl = permute(x, [0, 2, 3, 1]);
    const stem = convBn(xl, this.conv1, this.bn1, { activation: "relu" });
    xl.dispose();
    const h = maxPool2dNhwc(stem, 3, { stride: 2, padding: 1 });
    stem.dispose();
    return pooledFeatures(h, this.stages, x.shape[0], this.featureDim);
  }

  /** Logits [N, numClasses]. */
  forward(x: Tensor): Tensor {
    if (!this.fc) throw new Error("resnet: built without a classifier (numClasses 0)");
    const f = this.features(x);
    const y = this.fc.forward(f);
    f.dispose();
    return y;
  }
}

/** torchvision `resnet18` (BasicBlock, [2, 2, 2, 2]); `width` scales every stage. */
export function resnet18(cfg: Omit<ResNetConfig, "layers"> = {}): ResNet {
  return new ResNet({ ...cfg, layers: [2, 2, 2, 2] });
}
