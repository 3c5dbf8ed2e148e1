/** Block copy along an axis (slice, concat, slice's backward): specs and reference. */
import { type KernelSpec, wgsl } from "../spec.ts";

const source = wgsl("./narrow.wgsl", import.meta.url);
const bindings = ["src", "dst", "params"];

export const narrowBlocksSpec: KernelSpec = {
  name: "narrow_blocks",
  source,
  entryPoint: "blocks",
  bindings,
};
export const narrowElementsSpec: KernelSpec = {
  name: "narrow_elements",
  source,
  entryPoint: "elements",
  bindings,
};

/** Below this many words per block, one invocation per word beats a workgroup per block. */
export const MIN_BLOCK = 64;

/** x[..., start:end, ...] along `axis` (contiguous row-major data). */
export function sliceReference(
  x: ArrayLike<number>,
  shape: readonly number[],
  axis: number,
  start: number,
  end: number,
): number[] {
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const out: number[] = [];
  for (let o = 0; o < outer; o++) {
    for (let k = start; k < end; k++) {
      for (let j = 0; j < inner; j++) out.push(x[(o * shape[axis] + k) * inner + j]);
    }
  }
  return out;
}
