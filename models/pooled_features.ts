/** The shared tail of torchvision's CNN backbones: run the blocks, then global-average-pool. */
import { adaptiveAvgPool2dNhwc } from "../engine/ops/pool.ts";
import { reshape } from "../engine/ops/shape.ts";
import type { Tensor } from "../engine/tensor.ts";

/**
 * Feeds channels-last `h` through `blocks` (consuming `h` and each intermediate) and returns the
 * pooled penultimate embedding [batch, dim].
 */
export function pooledFeatures(
  h: Tensor,
  blocks: readonly { forward(x: Tensor): Tensor }[],
  batch: number,
  dim: number,
): Tensor {
  for (const b of blocks) {
    const next = b.forward(h);
    h.dispose();
    h = next;
  }
  const pooled = adaptiveAvgPool2dNhwc(h, 1);
  h.dispose();
  const f = reshape(pooled, [batch, dim]);
  pooled.dispose();
  return f;
}
