/** Embedding lookup and its deterministic scatter-add backward: specs and float64 references. */
import { type KernelSpec, wgsl } from "../spec.ts";

export const embeddingSpec: KernelSpec = {
  name: "embedding",
  source: wgsl("./embedding.wgsl", import.meta.url),
  bindings: ["weight", "ids", "out", "params"],
};

export const embeddingBackwardSpec: KernelSpec = {
  name: "embedding_backward",
  source: wgsl("./embedding_backward.wgsl", import.meta.url),
  bindings: ["grad_out", "ids", "grad_weight", "params"],
};

/** out[n, :] = weight[ids[n], :] (zeros for an id outside [0, vocab)). */
export function embeddingReference(
  weight: ArrayLike<number>,
  ids: ArrayLike<number>,
  vocab: number,
  dim: number,
): Float64Array {
  const out = new Float64Array(ids.length * dim);
  for (let n = 0; n < ids.length; n++) {
    if (ids[n] < 0 || ids[n] >= vocab) continue;
    for (let d = 0; d < dim; d++) out[n * dim + d] = weight[ids[n] * dim + d];
  }
  return out;
}

/** grad_weight[v, :] = Σ_{n: ids[n] = v} grad_out[n, :]. */
export function embeddingBackwardReference(
  gradOut: ArrayLike<number>,
  ids: ArrayLike<number>,
  vocab: number,
  dim: number,
): Float64Array {
  const out = new Float64Array(vocab * dim);
  for (let n = 0; n < ids.length; n++) {
    if (ids[n] < 0 || ids[n] >= vocab) continue;
    for (let d = 0; d < dim; d++) out[ids[n] * dim + d] += gradOut[n * dim + d];
  }
  return out;
}
