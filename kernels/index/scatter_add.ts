/** Deterministic scatter-add along an axis: specs and float64 reference. */
import { type KernelSpec, wgsl } from "../spec.ts";

const source = wgsl("./scatter_add.wgsl", import.meta.url);
const bindings = ["index", "src", "chain", "out", "params"];

export const scatterLinksSpec: KernelSpec = {
  name: "scatter_links",
  source,
  entryPoint: "links",
  bindings,
};
export const scatterSumSpec: KernelSpec = {
  name: "scatter_sum",
  source,
  entryPoint: "sum",
  bindings,
};

/** base with out[o, index[k], j] += src[o, k, j]; out-of-range indices are ignored. */
export function scatterAddReference(
  base: ArrayLike<number>,
  shape: readonly number[],
  axis: number,
  index: ArrayLike<number>,
  src: ArrayLike<number>,
): Float64Array {
  const out = Float64Array.from(base);
  const cols = shape[axis];
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < index.length; k++) {
      const c = index[k];
      if (!(c >= 0 && c < cols)) continue;
      for (let j = 0; j < inner; j++) {
        out[(o * cols + c) * inner + j] += src[(o * index.length + k) * inner + j];
      }
    }
  }
  return out;
}
