/**
 * The dual-head student (docs/method.md §1): a backbone's penultimate features feed two linear
 * heads, `ce_head` (trained on labels) and `kd_head` (trained on the teacher). Parameter names are
 * `backbone.<torchvision name>`, `ce_head.*`, `kd_head.*`.
 */
import { Linear } from "../../engine/nn/linear.ts";
import { Module } from "../../engine/nn/module.ts";
import type { Rng } from "../../engine/rng.ts";
import type { Tensor } from "../../engine/tensor.ts";

/** A network whose `features(x)` is the penultimate embedding [B, featureDim]. */
export interface Backbone extends Module {
  readonly featureDim: number;
  features(x: Tensor): Tensor;
}

export interface DualHeadOutput {
  features: Tensor;
  ce: Tensor;
  kd: Tensor;
}

export class DualHeadStudent extends Module {
  readonly backbone: Backbone;
  readonly ceHead: Linear;
  readonly kdHead: Linear;

  /** Heads drawn from `rng` (PyTorch's Linear init); zeros without one (weights to load). */
  constructor(backbone: Backbone, readonly classes: number, rng?: Rng) {
    super();
    this.backbone = this.child("backbone", backbone);
    const d = backbone.featureDim;
    this.ceHead = this.child("ce_head", new Linear(d, classes, { rng: rng?.stream("ce_head") }));
    this.kdHead = this.child("kd_head", new Linear(d, classes, { rng: rng?.stream("kd_head") }));
  }

  forward(x: Tensor): DualHeadOutput {
    const features = this.backbone.features(x);
    return { features, ce: this.ceHead.forward(features), kd: this.kdHead.forward(features) };
  }

  /** The CE head alone (plain active learning: no teacher, the KD head unused). */
  forwardCe(x: Tensor): Tensor {
    return this.ceHead.forward(this.backbone.features(x));
  }

  /** The KD head alone (the unlabeled batch needs no CE logits). */
  forwardKd(x: Tensor): Tensor {
    return this.kdHead.forward(this.backbone.features(x));
  }
}
