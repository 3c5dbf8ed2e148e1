/**
 * CLIP's `VisionTransformer` image tower (ViT-B/32 family): patches by a stride-`patch` conv, a
 * class token in front, positional embedding, `ln_pre`, the transformer, `ln_post` on the
 * class token, projection by `proj` [width, output].
 */
import { Module } from "../../engine/nn/module.ts";
import { LayerNorm } from "../../engine/nn/layer_norm.ts";
import { normalInit } from "../../engine/nn/init.ts";
import type { Rng } from "../../engine/rng.ts";
import { type Tensor, tensor } from "../../engine/tensor.ts";
import { add, zeros } from "../../engine/ops/elementwise.ts";
import { reshape } from "../../engine/ops/shape.ts";
import { concat, slice } from "../../engine/ops/narrow.ts";
import { permute } from "../../engine/ops/permute.ts";
import { matmul } from "../../engine/ops/matmul.ts";
import { Transformer } from "./transformer.ts";

/**
 * `conv1`: a bias-free conv with kernel = stride = patch. Patches do not overlap, so it is one
 * GEMM over the image cut into patches (a permute, no im2col).
 */
class PatchEmbedding extends Module {
  readonly weight: Tensor;

  constructor(readonly width: number, readonly patch: number, rng?: Rng) {
    super();
    const fanIn = 3 * patch * patch;
    this.weight = this.param(
      "weight",
      tensor(normalInit(width * fanIn, fanIn ** -0.5, rng), [width, 3, patch, patch]),
    );
  }

  /** images [B, 3, G·P, G·P] → patch tokens [B, G², width]. */
  forward(x: Tensor): Tensor {
    const [b, c, side] = x.shape;
    const p = this.patch, g = side / p;
    const grid = reshape(x, [b, c, g, p, g, p]);
    const patches = reshape(permute(grid, [0, 2, 4, 1, 3, 5]), [b, g * g, c * p * p]);
    return matmul(patches, reshape(this.weight, [this.width, c * p * p]), { transB: true });
  }
}

export interface VisionTransformerOptions {
  inputResolution: number;
  patchSize: number;
  width: number;
  layers: number;
  heads: number;
  outputDim: number;
  /** Random init (benchmarks); without it the tensors are zeros, to be loaded. */
  rng?: Rng;
}

export class VisionTransformer extends Module {
  readonly conv1: PatchEmbedding;
  readonly class_embedding: Tensor;
  readonly positional_embedding: Tensor;
  readonly ln_pre: LayerNorm;
  readonly transformer: Transformer;
  readonly ln_post: LayerNorm;
  readonly proj: Tensor;
  readonly inputResolution: number;

  constructor(
    { inputResolution, patchSize, width, layers, heads, outputDim, rng }: VisionTransformerOptions,
  ) {
    super();
    this.inputResolution = inputResolution;
    this.conv1 = this.child("conv1", new PatchEmbedding(width, patchSize, rng));
    const std = width ** -0.5;
    const tokens = (inputResolution / patchSize) ** 2 + 1;
    this.class_embedding = this.param("class_embedding", tensor(normalInit(width, std, rng)));
    this.positional_embedding = this.param(
      "positional_embedding",
      tensor(normalInit(tokens * width, std, rng), [tokens, width]),
    );
    this.ln_pre = this.child("ln_pre", new LayerNorm(width));
    this.transformer = this.child("transformer", new Transformer(width, layers, heads, rng));
    this.ln_post = this.child("ln_post", new LayerNorm(width));
    this.proj = this.param(
      "proj",
      tensor(normalInit(width * outputDim, std, rng), [width, outputDim]),
    );
  }

  /** images [B, 3, R, R] → features [B, outputDim]. */
  forward(x: Tensor): Tensor {
    const tokens = this.conv1.forward(x); // [B, G², width]
    const [b, , width] = tokens.shape;
    const cls = add(zeros([b, 1, width]), this.class_embedding);
    let seq = add(concat([cls, tokens], 1), this.positional_embedding);
    seq = this.transformer.forward(this.ln_pre.forward(seq));
    const first = reshape(slice(seq, 1, 0, 1), [b, width]);
    return matmul(this.ln_post.forward(first), this.proj);
  }
}
