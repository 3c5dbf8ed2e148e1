/** `LayerNorm`: PyTorch's `nn.LayerNorm` over the last dims (weight ones, bias zeros). */
import { layerNorm } from "../ops/norm.ts";
import type { Tensor } from "../tensor.ts";
import { full } from "../ops/elementwise.ts";
import { reshape } from "../ops/shape.ts";
import { Module } from "./module.ts";

export class LayerNorm extends Module {
  readonly normalizedShape: readonly number[];
  readonly weight: Tensor;
  readonly bias: Tensor;

  constructor(normalizedShape: number | readonly number[], readonly eps = 1e-5) {
    super();
    this.normalizedShape = typeof normalizedShape === "number"
      ? [normalizedShape]
      : [...normalizedShape];
    this.weight = this.param("weight", full(this.normalizedShape, 1));
    this.bias = this.param("bias", full(this.normalizedShape, 0));
  }

  /** x [..., *normalizedShape] → same shape, normalised over the trailing dims. */
  forward(x: Tensor): Tensor {
    const n = this.normalizedShape.length;
    const tail = x.shape.slice(-n);
    if (tail.length !== n || tail.some((d, i) => d !== this.normalizedShape[i])) {
      throw new Error(`LayerNorm: input [${x.shape}] does not end in [${this.normalizedShape}]`);
    }
    if (n === 1) return layerNorm(x, this.weight, this.bias, this.eps);
    // Normalise over the flattened trailing dims, then restore the shape.
    const size = this.weight.size;
    const x2 = reshape(x, [...x.shape.slice(0, -n), size]);
    const w = reshape(this.weight, [size]);
    const b = reshape(this.bias, [size]);
    const y2 = layerNorm(x2, w, b, this.eps);
    const y = reshape(y2, x.shape);
    for (const t of [x2, w, b, y2]) t.dispose();
    return y;
  }
}
