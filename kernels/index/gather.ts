/** index_select (gather along an axis): spec and reference. */
import { type KernelSpec, wgsl } from "../spec.ts";

const source = wgsl("./gather.wgsl", import.meta.url);
const bindings = ["x", "index", "out", "params"];

export const gatherRowsSpec: KernelSpec = {
  name: "gather_rows",
  source,
  entryPoint: "rows",
  bindings,
};
export const gatherElementsSpec: KernelSpec = {
  name: "gather_elements",
  source,
  entryPoint: "elements",
  bindings,
};

/** out[o, k, j] = x[o, index[k], j]; an out-of-range index gives 0. */
export function indexSelectReference(
  x: ArrayLike<number>,
  shape: readonly number[],
  axis: number,
  index: ArrayLike<number>,
): number[] {
  const cols = shape[axis];
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const out: number[] = [];
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < index.length; k++) {
      const c = index[k];
      for (let j = 0; j < inner; j++) {
        out.push(c >= 0 && c < cols ? x[(o * cols + c) * inner + j] : 0);
      }
    }
  }
  return out;
}
