/** `Linear`: y = x·Wᵀ + b, PyTorch's `nn.Linear` (weight [out, in], bias [out]). */
import { type Activation, linear } from "../ops/matmul.ts";
import { type Tensor, tensor } from "../tensor.ts";
import type { Rng } from "../rng.ts";
import { Module } from "./module.ts";
import { uniformInit } from "./init.ts";

export interface LinearOptions {
  bias?: boolean;
  /**
   * Draws PyTorch's default init, kaiming_uniform(a=√5) for the weight, which is
   * U(−1/√in, 1/√in), and the same bound for the bias. Without it the tensors are zeros, to be
   * filled by `loadStateDict`.
   */
  rng?: Rng;
}

export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | undefined;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    { bias = true, rng }: LinearOptions = {},
  ) {
    super();
    const bound = 1 / Math.sqrt(inFeatures);
    this.weight = this.param(
      "weight",
      tensor(uniformInit(outFeatures * inFeatures, bound, rng), [outFeatures, inFeatures]),
    );
    this.bias = bias
      ? this.param("bias", tensor(uniformInit(outFeatures, bound, rng), [outFeatures]))
      : undefined;
  }

  /** x [..., in] → [..., out], with an optional fused activation. */
  forward(x: Tensor, activation: Activation = "none"): Tensor {
    return linear(x, this.weight, this.bias, activation);
  }
}
