/**
 * CLIP's `AttentionPool2d`: the feature map's tokens plus their mean (prepended), with a learned
 * positional embedding, attend once; the output at the mean token, projected by `c_proj`, is
 * the image embedding. Only that token's output is used, so only its query is computed (the
 * reference computes every query and keeps row 0: the same numbers).
 */
import { Module } from "../../engine/nn/module.ts";
import { Linear } from "../../engine/nn/linear.ts";
import { normalInit } from "../../engine/nn/init.ts";
import type { Rng } from "../../engine/rng.ts";
import { type Tensor, tensor } from "../../engine/tensor.ts";
import { add } from "../../engine/ops/elementwise.ts";
import { reshape } from "../../engine/ops/shape.ts";
import { concat, slice } from "../../engine/ops/narrow.ts";
import { scaledDotProductAttention } from "../../engine/ops/attention.ts";
import { adaptiveAvgPool2dNhwc } from "../../engine/ops/pool.ts";
import { mergeHeads, splitHeads } from "./heads.ts";

export class AttentionPool2d extends Module {
  readonly positional_embedding: Tensor;
  readonly k_proj: Linear;
  readonly q_proj: Linear;
  readonly v_proj: Linear;
  readonly c_proj: Linear;

  constructor(
    spacialDim: number,
    embedDim: number,
    readonly numHeads: number,
    outputDim: number,
    rng?: Rng,
  ) {
    super();
    const tokens = spacialDim ** 2 + 1;
    this.positional_embedding = this.param(
      "positional_embedding",
      tensor(normalInit(tokens * embedDim, embedDim ** -0.5, rng), [tokens, embedDim]),
    );
    this.k_proj = this.child("k_proj", new Linear(embedDim, embedDim, { rng }));
    this.q_proj = this.child("q_proj", new Linear(embedDim, embedDim, { rng }));
    this.v_proj = this.child("v_proj", new Linear(embedDim, embedDim, { rng }));
    this.c_proj = this.child("c_proj", new Linear(embedDim, outputDim, { rng }));
  }

  /** Channels-last features x [B, H, W, C] → [B, outputDim]. */
  forward(x: Tensor): Tensor {
    const [b, h, w, c] = x.shape;
    const tokens = reshape(x, [b, h * w, c]);
    const meanToken = reshape(adaptiveAvgPool2dNhwc(x, 1), [b, 1, c]);
    const seq = add(concat([meanToken, tokens], 1), this.positional_embedding);
    const q = splitHeads(this.q_proj.forward(slice(seq, 1, 0, 1)), this.numHeads);
    const k = splitHeads(this.k_proj.forward(seq), this.numHeads);
    const v = splitHeads(this.v_proj.forward(seq), this.numHeads);
    const pooled = mergeHeads(scaledDotProductAttention(q, k, v)); // [B, 1, C]
    return this.c_proj.forward(reshape(pooled, [b, c]));
  }
}
