/** Strided copy with zero padding (weight re-layouts): spec, plan and reference. */
import { type KernelSpec, wgsl } from "../spec.ts";

export const relayoutSpec: KernelSpec = {
  name: "relayout",
  source: wgsl("./relayout.wgsl", import.meta.url),
  bindings: ["x", "out", "params"],
};

export const MAX_RELAYOUT_RANK = 4;

/**
 * A view of a contiguous tensor of shape `inShape`: output dim d walks input dim `perm[d]`, and
 * is `pad[d]` elements longer than it (the extra elements read as zero).
 */
export interface RelayoutPlan {
  shape: number[];
  extent: number[];
  strides: number[];
}

export function relayoutPlan(
  inShape: readonly number[],
  perm: readonly number[],
  padTo: readonly number[] = perm.map((d) => inShape[d]),
): RelayoutPlan {
  if (inShape.length > MAX_RELAYOUT_RANK) {
    throw new Error(`relayout: rank ${inShape.length} > ${MAX_RELAYOUT_RANK}`);
  }
  if (perm.length !== inShape.length || [...perm].sort().some((d, i) => d !== i)) {
    throw new Error(`relayout: [${perm}] is not a permutation of ${inShape.length} dims`);
  }
  const inStrides = new Array<number>(inShape.length);
  let s = 1;
  for (let d = inShape.length - 1; d >= 0; d--) {
    inStrides[d] = s;
    s *= inShape[d];
  }
  const extent = perm.map((d) => inShape[d]);
  padTo.forEach((p, d) => {
    if (p < extent[d]) throw new Error(`relayout: dim ${d} cannot shrink to ${p}`);
  });
  return { shape: [...padTo], extent, strides: perm.map((d) => inStrides[d]) };
}

/** Reference: the same copy on the host. */
export function relayoutReference(x: ArrayLike<number>, plan: RelayoutPlan): Float64Array {
  const n = plan.shape.reduce((a, b) => a * b, 1);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let rem = i, src = 0, inside = true;
    for (let d = plan.shape.length - 1; d >= 0; d--) {
      const c = rem % plan.shape[d];
      rem = Math.floor(rem / plan.shape[d]);
      inside &&= c < plan.extent[d];
      src += c * plan.strides[d];
    }
    out[i] = inside ? x[src] : 0;
  }
  return out;
}
