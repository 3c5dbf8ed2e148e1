/** `Embedding`: PyTorch's `nn.Embedding` (weight [num, dim], init N(0, 1)). */
import { embedding } from "../ops/embedding.ts";
import { type Tensor, tensor } from "../tensor.ts";
import type { Rng } from "../rng.ts";
import { Module } from "./module.ts";
import { normalInit } from "./init.ts";

export class Embedding extends Module {
  readonly weight: Tensor;

  /** Without `rng` the weight is zeros, to be filled by `loadStateDict`. */
  constructor(
    readonly numEmbeddings: number,
    readonly embeddingDim: number,
    { rng }: { rng?: Rng } = {},
  ) {
    super();
    this.weight = this.param(
      "weight",
      tensor(normalInit(numEmbeddings * embeddingDim, 1, rng), [numEmbeddings, embeddingDim]),
    );
  }

  /** ids i32 [...] → [..., dim]. */
  forward(ids: Tensor): Tensor {
    return embedding(this.weight, ids);
  }
}
