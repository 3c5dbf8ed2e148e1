/** Scaled dot-product attention, composed of the GEMM core and softmax (differentiable). */
import { engine } from "../context.ts";
import { empty, type Tensor } from "../tensor.ts";
import { causalMaskSpec } from "../../kernels/attention/causal_mask.ts";
import { add } from "./elementwise.ts";
import { grid1d } from "./grid.ts";
import { matmul } from "./matmul.ts";
import { softmax } from "./softmax.ts";

const WG = 256;

/** The additive causal mask [L, S]: 0 on and below the diagonal, −inf above (not differentiable). */
export function causalMask(queries: number, keys: number): Tensor {
  const mask = empty([queries, keys]);
  const { workgroups, groupsX } = grid1d(mask.size, WG);
  engine().dispatch(causalMaskSpec, {
    buffers: { mask: mask.buffer },
    uniforms: { n: mask.size, keys, groups_x: groupsX, neg_inf_bits: 0xff800000 },
    overrides: { WG },
    workgroups,
    label: "causal_mask",
  });
  return mask;
}

export interface AttentionOptions {
  /** Query i sees keys j <= i only (top-left aligned, as torch's `is_causal`). */
  causal?: boolean;
  /** Additive float mask broadcastable to [..., L, S] (e.g. [L, S]); −inf hides a key. */
  mask?: Tensor;
  /** Defaults to 1/√Dh. */
  scale?: number;
}

/**
 * softmax(q·kᵀ·scale + mask)·v with q [B, H, L, Dh], k [B, H, S, Dh], v [B, H, S, Dv] (any
 * leading batch dims) → [B, H, L, Dv]. A query whose keys are all masked gives NaN, as in torch.
 */
export function scaledDotProductAttention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  { causal = false, mask, scale }: AttentionOptions = {},
): Tensor {
  const [queries, dh] = q.shape.slice(-2);
  const keys = k.shape[k.rank - 2];
  if (k.shape[k.rank - 1] !== dh || v.shape[v.rank - 2] !== keys) {
    throw new Error(`attention: q [${q.shape}], k [${k.shape}], v [${v.shape}] do not fit`);
  }
  let scores = matmul(q, k, { transB: true, alpha: scale ?? 1 / Math.sqrt(dh) });
  const causalM = causal ? causalMask(queries, keys) : undefined;
  for (const m of [mask, causalM]) {
    if (!m) continue;
    const masked = add(scores, m);
    scores.dispose();
    scores = masked;
  }
  causalM?.dispose();
  const probs = softmax(scores, -1);
  const out = matmul(probs, v);
  for (const t of [scores, probs]) t.dispose();
  return out;
}
