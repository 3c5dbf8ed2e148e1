/**
 * torchvision's MobileNetV2, module for module: `features.<i>` (Conv2dNormActivation blocks and
 * InvertedResidual blocks with their `conv.<j>` Sequentials), `classifier.1` (after Dropout),
 * `width_mult` with `_make_divisible(·, round_nearest = 8)`, ReLU6. State-dict names match
 * torchvision's, so its checkpoints load by name. Inputs are NCHW [N, 3, H, W]; the network runs
 * channels-last inside.
 */
import { BatchNorm2d, Conv2d, convBn, inBatchChunks } from "../engine/nn/conv.ts";
import { Linear } from "../engine/nn/linear.ts";
import { Module } from "../engine/nn/module.ts";
import { permute } from "../engine/ops/permute.ts";
import { pooledFeatures } from "./pooled_features.ts";
import { mul } from "../engine/ops/elementwise.ts";
import type { Rng } from "../engine/rng.ts";
import { type Tensor, tensor } from "../engine/tensor.ts";
import { normalInit } from "../engine/nn/init.ts";

export interface MobileNetV2Config {
  /** Classifier outputs; 0 builds the network without `classifier` (a backbone). */
  numClasses?: number;
  widthMult?: number;
  roundNearest?: number;
  /** Dropout before the classifier in training mode (torchvision: 0.2); needs `dropoutRng`. */
  dropout?: number;
  /** Draws torchvision's init (kaiming_normal fan_out convs, BN 1/0, Linear N(0, 0.01)). */
  rng?: Rng;
  /** The generator of the training-mode dropout masks. */
  dropoutRng?: Rng;
}

/** torchvision's `_make_divisible`: nearest multiple of `divisor`, never below 90% of v. */
export function makeDivisible(v: number, divisor: number, minValue = divisor): number {
  let out = Math.max(minValue, Math.floor((v + divisor / 2) / divisor) * divisor);
  if (out < 0.9 * v) out += divisor;
  return out;
}

/** (expand ratio t, channels c, repeats n, first stride s), torchvision's default setting. */
export const INVERTED_RESIDUAL_SETTING: readonly [number, number, number, number][] = [
  [1, 16, 1, 1],
  [6, 24, 2, 2],
  [6, 32, 3, 2],
  [6, 64, 4, 2],
  [6, 96, 3, 1],
  [6, 160, 3, 2],
  [6, 320, 1, 1],
];

/** `Conv2dNormActivation`: Sequential(Conv2d, BatchNorm2d, ReLU6) named "0", "1". */
class ConvNormAct extends Module {
  readonly conv: Conv2d;
  readonly bn: BatchNorm2d;

  constructor(inC: number, outC: number, k: number, stride: number, groups: number, rng?: Rng) {
    super();
    this.conv = this.child(
      "0",
      new Conv2d(inC, outC, k, {
        stride,
        padding: (k - 1) >> 1,
        groups,
        bias: false,
        init: "kaiming_normal_fan_out",
        rng,
      }),
    );
    this.bn = this.child("1", new BatchNorm2d(outC));
  }

  forward(x: Tensor): Tensor {
    return convBn(x, this.conv, this.bn, { activation: "relu6" });
  }

  /** Channels of this block's widest activation. */
  get widestChannels(): number {
    return Math.max(this.conv.inChannels, this.conv.outChannels);
  }
}

/** The `conv` Sequential of an InvertedResidual: [expand,] depthwise, project conv, project BN. */
class InvertedResidualConv extends Module {
  readonly expand: ConvNormAct | undefined;
  readonly depthwise: ConvNormAct;
  readonly project: Conv2d;
  readonly projectBn: BatchNorm2d;

  constructor(inp: number, oup: number, stride: number, expandRatio: number, rng?: Rng) {
    super();
    const hidden = Math.round(inp * expandRatio);
    let i = 0;
    this.expand = expandRatio !== 1
      ? this.child(String(i++), new ConvNormAct(inp, hidden, 1, 1, 1, rng))
      : undefined;
    this.depthwise = this.child(
      String(i++),
      new ConvNormAct(hidden, hidden, 3, stride, hidden, rng),
    );
    this.project = this.child(
      String(i++),
      new Conv2d(hidden, oup, 1, { bias: false, init: "kaiming_normal_fan_out", rng }),
    );
    this.projectBn = this.child(String(i++), new BatchNorm2d(oup));
  }
}

export class InvertedResidual extends Module {
  readonly conv: InvertedResidualConv;
  readonly useResConnect: boolean;

  constructor(inp: number, oup: number, stride: number, expandRatio: number, rng?: Rng) {
    super();
    if (stride !== 1 && stride !== 2) throw new Error(`InvertedResidual: stride ${stride}`);
    this.useResConnect = stride === 1 && inp === oup;
    this.conv = this.child("conv", new InvertedResidualConv(inp, oup, stride, expandRatio, rng));
  }

  /** Channels of this block's widest activation (the expansion). */
  get widestChannels(): number {
    return this.conv.depthwise.widestChannels;
  }

  forward(x: Tensor): Tensor {
    const c = this.conv;
    const e = c.expand ? c.expand.forward(x) : x;
    const d = c.depthwise.forward(e);
    if (e !== x) e.dispose();
    const out = convBn(d, c.project, c.projectBn, this.useResConnect ? { residual: x } : {});
    d.dispose();
    return out;
  }
}

/** `features`: blocks named "0" … "18". */
class Features extends Module {
  readonly blocks: (ConvNormAct | InvertedResidual)[] = [];

  add(block: ConvNormAct | InvertedResidual): void {
    this.blocks.push(this.child(String(this.blocks.length), block));
  }
}

/** `classifier`: Sequential(Dropout, Linear): the Linear is "1". */
class Classifier extends Module {
  readonly linear: Linear;

  constructor(inF: number, classes: number, rng?: Rng) {
    super();
    this.linear = this.child("1", new Linear(inF, classes));
    if (rng) {
      // torchvision: normal_(0, 0.01) weights, zero bias.
      const w = tensor(normalInit(classes * inF, 0.01, rng), [classes, inF]);
      const b = tensor(new Float32Array(classes), [classes]);
      this.linear.loadStateDict(new Map([["weight", w], ["bias", b]]));
      w.dispose();
      b.dispose();
    }
  }
}

export class MobileNetV2 extends Module {
  readonly featureBlocks: Features;
  readonly classifier: Classifier | undefined;
  readonly featureDim: number;
  readonly numClasses: number;
  readonly dropoutP: number;
  readonly #dropoutRng: Rng | undefined;

  constructor(cfg: MobileNetV2Config = {}) {
    super();
    const widthMult = cfg.widthMult ?? 1;
    const round = cfg.roundNearest ?? 8;
    this.numClasses = cfg.numClasses ?? 1000;
    this.dropoutP = cfg.dropout ?? 0.2;
    this.#dropoutRng = cfg.dropoutRng;
    const { rng } = cfg;
    let inC = makeDivisible(32 * widthMult, round);
    const lastC = makeDivisible(1280 * Math.max(1, widthMult), round);
    this.featureBlocks = this.child("features", new Features());
    this.featureBlocks.add(new ConvNormAct(3, inC, 3, 2, 1, rng));
    for (const [t, c, n, s] of INVERTED_RESIDUAL_SETTING) {
      const outC = makeDivisible(c * widthMult, round);
      for (let i = 0; i < n; i++) {
        this.featureBlocks.add(new InvertedResidual(inC, outC, i === 0 ? s : 1, t, rng));
        inC = outC;
      }
    }
    this.featureBlocks.add(new ConvNormAct(inC, lastC, 1, 1, 1, rng));
    this.featureDim = lastC;
    this.classifier = this.numClasses > 0
      ? this.child("classifier", new Classifier(lastC, this.numClasses, rng?.stream("classifier")))
      : undefined;
  }

  /** The penultimate embedding: NCHW images [N, 3, H, W] → [N, featureDim] (after avgpool). */
  features(x: Tensor): Tensor {
    if (x.rank !== 4 || x.shape[1] !== 3) {
      throw new Error(`mobilenet_v2: input must be [N, 3, H, W], got [${x.shape}]`);
    }
    // Bound the largest activation per image: the widest block output at half resolution
    // (features.2's expansion, 6 × 16 channels at width 1) or the stem's.
    const half = Math.ceil(x.shape[2] / 2) * Math.ceil(x.shape[3] / 2);
    const widest = Math.max(...this.featureBlocks.blocks.slice(0, 3).map((b) => b.widestChannels));
    return inBatchChunks(x, 4 * widest * half, this.training, (xs) => this.#features(xs));
  }

  #features(x: Tensor): Tensor {
    const h = permute(x, [0, 2, 3, 1]);
    return pooledFeatures(h, this.featureBlocks.blocks, x.shape[0], this.featureDim);
  }

  /** Logits [N, numClasses]; dropout (p = `dropout`) before the classifier in training mode. */
  forward(x: Tensor): Tensor {
    if (!this.classifier) throw new Error("mobilenet_v2: built without a classifier");
    const f = this.features(x);
    let dropped = f;
    if (this.training && this.dropoutP > 0 && this.#dropoutRng) {
      const mask = dropoutMask(f.shape, this.dropoutP, this.#dropoutRng);
      dropped = mul(f, mask);
      mask.dispose();
    }
    const y = this.classifier.linear.forward(dropped);
    if (dropped !== f) dropped.dispose();
    f.dispose();
    return y;
  }
}

/** Inverted dropout's mask: 0 with probability p, else 1/(1 − p), drawn on the host. */
function dropoutMask(shape: readonly number[], p: number, rng: Rng): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const m = new Float32Array(n);
  for (let i = 0; i < n; i++) m[i] = rng.uniform() < p ? 0 : 1 / (1 - p);
  return tensor(m, shape);
}

/** torchvision `mobilenet_v2(num_classes, width_mult)`. */
export function mobilenetV2(cfg: MobileNetV2Config = {}): MobileNetV2 {
  return new MobileNetV2(cfg);
}
