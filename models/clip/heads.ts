/** Multi-head layout changes between [B, L, E] token rows and [B, H, L, E/H] per-head rows. */
import type { Tensor } from "../../engine/tensor.ts";
import { reshape } from "../../engine/ops/shape.ts";
import { permute } from "../../engine/ops/permute.ts";

/** [B, L, E] → [B, H, L, E/H]. */
export function splitHeads(x: Tensor, heads: number): Tensor {
  const [b, l, e] = x.shape;
  const r = reshape(x, [b, l, heads, e / heads]);
  const out = permute(r, [0, 2, 1, 3]);
  r.dispose();
  return out;
}

/** [B, H, L, Dh] → [B, L, H·Dh]. */
export function mergeHeads(x: Tensor): Tensor {
  const [b, h, l, d] = x.shape;
  const p = permute(x, [0, 2, 1, 3]);
  const out = reshape(p, [b, l, h * d]);
  p.dispose();
  return out;
}
