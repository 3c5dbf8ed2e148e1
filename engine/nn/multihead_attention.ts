/**
 * `MultiheadAttention`: PyTorch's `nn.MultiheadAttention` with its default layout,
 * batch_first=False (as CLIP uses): query [L, B, E], key and value [S, B, E], output
 * [L, B, E]. Parameters carry PyTorch's state-dict names: `in_proj_weight` [3E, E] (rows q, k, v)
 * and `in_proj_bias` [3E], then `out_proj.weight` [E, E] and `out_proj.bias` [E].
 */
import { engine } from "../context.ts";
import { linear } from "../ops/matmul.ts";
import { permute } from "../ops/permute.ts";
import { slice } from "../ops/narrow.ts";
import { reshape } from "../ops/shape.ts";
import { scaledDotProductAttention } from "../ops/attention.ts";
import { scope, type Tensor, tensor } from "../tensor.ts";
import type { Rng } from "../rng.ts";
import { Module } from "./module.ts";
import { Linear } from "./linear.ts";
import { uniformInit, xavierBound } from "./init.ts";

export interface MultiheadAttentionOptions {
  /** Additive float mask [L, S] (−inf hides a key), as PyTorch's float `attn_mask`. */
  attnMask?: Tensor;
  /** Hides keys after the query's own position (the text tower's mask, without a tensor). */
  causal?: boolean;
}

export class MultiheadAttention extends Module {
  readonly inProjWeight: Tensor;
  readonly inProjBias: Tensor;
  readonly outProj: Linear;
  readonly headDim: number;

  /**
   * PyTorch's init with `rng`: xavier_uniform for `in_proj_weight`, zero biases, the default
   * Linear init for `out_proj.weight`. Without it, zeros to be filled by `loadStateDict`.
   */
  constructor(readonly embedDim: number, readonly numHeads: number, { rng }: { rng?: Rng } = {}) {
    super();
    if (embedDim % numHeads !== 0) {
      throw new Error(`MultiheadAttention: embedDim ${embedDim} not divisible by ${numHeads}`);
    }
    this.headDim = embedDim / numHeads;
    const e = embedDim;
    this.inProjWeight = this.param(
      "in_proj_weight",
      tensor(uniformInit(3 * e * e, xavierBound(e, 3 * e), rng), [3 * e, e]),
    );
    this.inProjBias = this.param("in_proj_bias", tensor(new Float32Array(3 * e)));
    this.outProj = this.child("out_proj", new Linear(e, e, { rng }));
    // PyTorch zeroes out_proj.bias after the Linear init drew it.
    if (rng) engine().stream.write(this.outProj.bias!.buffer, 0, new Float32Array(e));
  }

  /**
   * query [L, B, E], key/value [S, B, E] (default: self-attention) → [L, B, E]; PyTorch's
   * `mha(q, k, v, attn_mask=mask, need_weights=False)[0]`.
   */
  forward(
    query: Tensor,
    key: Tensor = query,
    value: Tensor = key,
    { attnMask, causal = false }: MultiheadAttentionOptions = {},
  ): Tensor {
    const [l, b, e] = query.shape;
    if (query.rank !== 3 || e !== this.embedDim) {
      throw new Error(`MultiheadAttention: query [${query.shape}] is not [L, B, ${this.embedDim}]`);
    }
    return scope(() => {
      // Each projection: [N, B, E] → [N, B, H, Dh] → [B, H, N, Dh].
      const project = (x: Tensor, i: number) => {
        const w = slice(this.inProjWeight, 0, i * e, (i + 1) * e);
        const bias = slice(this.inProjBias, 0, i * e, (i + 1) * e);
        const y = reshape(linear(x, w, bias), [x.shape[0], b, this.numHeads, this.headDim]);
        return permute(y, [1, 2, 0, 3]);
      };
      const heads = scaledDotProductAttention(
        project(query, 0),
        project(key, 1),
        project(value, 2),
        {
          mask: attnMask,
          causal,
        },
      );
      const merged = reshape(permute(heads, [2, 0, 1, 3]), [l, b, e]);
      return this.outProj.forward(merged);
    });
  }
}
