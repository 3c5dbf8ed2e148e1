/**
 * CLIP's `Transformer`: pre-norm residual attention blocks (`ln_1`, self-attention, `ln_2`,
 * MLP `c_fc` → QuickGELU → `c_proj`). Tokens stay batch-first [B, L, E] here (the reference
 * permutes to [L, B, E] for `nn.MultiheadAttention`; the arithmetic per token is the same).
 */
import { Module } from "../../engine/nn/module.ts";
import { Linear } from "../../engine/nn/linear.ts";
import { LayerNorm } from "../../engine/nn/layer_norm.ts";
import { MultiheadAttention } from "../../engine/nn/multihead_attention.ts";
import type { Rng } from "../../engine/rng.ts";
import { scope, type Tensor } from "../../engine/tensor.ts";
import { linear, matmul } from "../../engine/ops/matmul.ts";
import { reshape } from "../../engine/ops/shape.ts";
import { permute } from "../../engine/ops/permute.ts";
import { slice } from "../../engine/ops/narrow.ts";
import { scaledDotProductAttention } from "../../engine/ops/attention.ts";
import { mergeHeads } from "./heads.ts";

/**
 * residual + self-attention(x) for x [B, L, E], with `nn.MultiheadAttention`'s weights: q, k, v
 * in one GEMM with the packed `in_proj_weight`, and the residual fused into `out_proj`.
 * `causal` hides later tokens (the text tower).
 */
function selfAttention(
  attn: MultiheadAttention,
  x: Tensor,
  residual: Tensor,
  causal: boolean,
): Tensor {
  const [b, l, e] = x.shape;
  const h = attn.numHeads;
  const qkv = linear(x, attn.inProjWeight, attn.inProjBias); // [B, L, 3E]
  // [B, L, 3, H, Dh] → [3, B, H, L, Dh]: q, k, v each contiguous.
  const split = permute(reshape(qkv, [b, l, 3, h, e / h]), [2, 0, 3, 1, 4]);
  const [q, k, v] = [0, 1, 2].map((i) => reshape(slice(split, 0, i, i + 1), [b, h, l, e / h]));
  const heads = mergeHeads(scaledDotProductAttention(q, k, v, { causal }));
  return matmul(heads, attn.outProj.weight, { transB: true, bias: attn.outProj.bias, residual });
}

class Mlp extends Module {
  readonly c_fc: Linear;
  readonly c_proj: Linear;

  constructor(width: number, rng?: Rng) {
    super();
    this.c_fc = this.child("c_fc", new Linear(width, width * 4, { rng }));
    this.c_proj = this.child("c_proj", new Linear(width * 4, width, { rng }));
  }

  /** residual + c_proj(QuickGELU(c_fc(x))), activation and residual fused into the GEMMs. */
  forward(x: Tensor, residual: Tensor): Tensor {
    const hidden = this.c_fc.forward(x, "quick_gelu");
    return matmul(hidden, this.c_proj.weight, {
      transB: true,
      bias: this.c_proj.bias,
      residual,
    });
  }
}

export class ResidualAttentionBlock extends Module {
  readonly attn: MultiheadAttention;
  readonly ln_1: LayerNorm;
  readonly mlp: Mlp;
  readonly ln_2: LayerNorm;

  constructor(width: number, heads: number, rng?: Rng) {
    super();
    this.attn = this.child("attn", new MultiheadAttention(width, heads, { rng }));
    this.ln_1 = this.child("ln_1", new LayerNorm(width));
    this.mlp = this.child("mlp", new Mlp(width, rng));
    this.ln_2 = this.child("ln_2", new LayerNorm(width));
  }

  forward(x: Tensor, causal: boolean): Tensor {
    // One scope per block: its intermediates are freed before the next block runs.
    return scope(() => {
      const y = selfAttention(this.attn, this.ln_1.forward(x), x, causal);
      return this.mlp.forward(this.ln_2.forward(y), y);
    });
  }
}

export class Transformer extends Module {
  readonly resblocks: ResidualAttentionBlock[] = [];

  constructor(readonly width: number, layers: number, heads: number, rng?: Rng) {
    super();
    const seq = this.child("resblocks", new Module());
    for (let i = 0; i < layers; i++) {
      this.resblocks.push(seq.child(String(i), new ResidualAttentionBlock(width, heads, rng)));
    }
  }

  /** x [B, L, width] → [B, L, width]. */
  forward(x: Tensor, causal = false): Tensor {
    for (const block of this.resblocks) x = block.forward(x, causal);
    return x;
  }
}
