/** argmax / argmin along an axis: spec and reference (first index on ties, NaN wins). */
import { type KernelSpec, wgsl } from "../spec.ts";

export const argmaxSpec: KernelSpec = {
  name: "argmax",
  source: wgsl("./argmax.wgsl", import.meta.url),
  bindings: ["x", "out", "params"],
};

export function argReference(
  op: "argmax" | "argmin",
  x: ArrayLike<number>,
  shape: readonly number[],
  axis: number,
): number[] {
  const a = axis < 0 ? axis + shape.length : axis;
  const cols = shape[a];
  const inner = shape.slice(a + 1).reduce((p, d) => p * d, 1);
  const outer = shape.slice(0, a).reduce((p, d) => p * d, 1);
  const out: number[] = [];
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      let best = 0;
      for (let k = 1; k < cols; k++) {
        const v = x[(o * cols + k) * inner + j], b = x[(o * cols + best) * inner + j];
        if (Number.isNaN(b)) break;
        if (Number.isNaN(v) || (op === "argmax" ? v > b : v < b)) best = k;
      }
      out.push(best);
    }
  }
  return out;
}
