/** `embedding(weight, ids)`: row lookup with a deterministic scatter-add backward. */
import { engine } from "../context.ts";
import { empty, type Tensor } from "../tensor.ts";
import { record } from "../autograd.ts";
import { embeddingBackwardSpec, embeddingSpec } from "../../kernels/embedding/embedding.ts";
import { zeros } from "./elementwise.ts";
import { grid1d } from "./grid.ts";

const WG = 256;
const MAX_GROUPS = 65535;

/**
 * weight [V, D], ids i32 [...] → [..., D]. Differentiable in `weight`: its gradient sums the
 * output gradient rows of every position with that id, in position order (bit-reproducible).
 * An id outside [0, V) yields a zero row and no gradient.
 */
export function embedding(weight: Tensor, ids: Tensor): Tensor {
  if (weight.rank !== 2 || weight.dtype !== "f32") {
    throw new Error(`embedding: weight must be f32 [V, D], got ${weight.dtype}[${weight.shape}]`);
  }
  if (ids.dtype !== "i32") throw new Error(`embedding: ids must be i32, got ${ids.dtype}`);
  const [vocab, dim] = weight.shape;
  const out = empty([...ids.shape, dim]);
  const { workgroups, groupsX } = grid1d(out.size, WG);
  engine().dispatch(embeddingSpec, {
    buffers: { weight: weight.buffer, ids: ids.buffer, out: out.buffer },
    uniforms: { n: out.size, dim, vocab, groups_x: groupsX },
    overrides: { WG },
    workgroups,
    label: "embedding",
  });
  return record("embedding", [weight], out, [ids], (g) => {
    const grad = zeros(weight.shape);
    const groupsX = Math.min(Math.max(1, ids.size), MAX_GROUPS);
    engine().dispatch(embeddingBackwardSpec, {
      buffers: { grad_out: g.buffer, ids: ids.buffer, grad_weight: grad.buffer },
      uniforms: { num_ids: ids.size, dim, vocab, groups_x: groupsX },
      overrides: { WG },
      workgroups: [groupsX, Math.ceil(ids.size / groupsX)],
      label: "embedding_backward",
    });
    return [grad];
  });
}
