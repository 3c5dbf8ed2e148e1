/**
 * A small network for quick runs and tests: a two-layer perceptron on the flattened image,
 * `fc1` (3·S² → hidden) + ReLU, `fc2` (hidden → dim) + ReLU; `features` is the second layer.
 * As a classifier it adds `fc` (dim → classes), like torchvision's ResNet head.
 */
import { Linear } from "../../engine/nn/linear.ts";
import { Module } from "../../engine/nn/module.ts";
import type { Rng } from "../../engine/rng.ts";
import type { Tensor } from "../../engine/tensor.ts";
import { reshape } from "../../engine/ops/shape.ts";
import type { Backbone } from "./student.ts";

export const MLP_FEATURES = 128;

export class MlpBackbone extends Module implements Backbone {
  readonly fc1: Linear;
  readonly fc2: Linear;

  constructor(inputs: number, hidden = 256, readonly featureDim = MLP_FEATURES, rng?: Rng) {
    super();
    this.fc1 = this.child("fc1", new Linear(inputs, hidden, { rng: rng?.stream("fc1") }));
    this.fc2 = this.child("fc2", new Linear(hidden, featureDim, { rng: rng?.stream("fc2") }));
  }

  features(x: Tensor): Tensor {
    const flat = reshape(x, [x.shape[0], -1]);
    return this.fc2.forward(this.fc1.forward(flat, "relu"), "relu");
  }
}

export class MlpClassifier extends MlpBackbone {
  readonly fc: Linear;

  constructor(inputs: number, hidden: number, classes: number, rng?: Rng) {
    super(inputs, hidden, MLP_FEATURES, rng);
    this.fc = this.child("fc", new Linear(MLP_FEATURES, classes, { rng: rng?.stream("fc") }));
  }

  forward(x: Tensor): Tensor {
    return this.fc.forward(this.features(x));
  }
}
