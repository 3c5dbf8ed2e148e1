/** Argument checks and shape arithmetic shared by the data-movement ops. */
import type { Tensor } from "../tensor.ts";

/** The copy kernels move 32-bit words: refuse u8 and f16. */
export function words(name: string, ...ts: Tensor[]): void {
  for (const t of ts) {
    if (t.dtype === "u8" || t.dtype === "f16") {
      throw new Error(`${name}: supports 32-bit dtypes (f32, i32, u32), got ${t.dtype}`);
    }
  }
}

export function resolveAxis(name: string, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) {
    throw new Error(`${name}: axis ${axis} out of range for rank ${rank}`);
  }
  return a;
}

/** [outer, cols, inner] around `axis`. */
export function split(shape: readonly number[], axis: number) {
  return {
    outer: shape.slice(0, axis).reduce((p, d) => p * d, 1),
    cols: shape[axis],
    inner: shape.slice(axis + 1).reduce((p, d) => p * d, 1),
  };
}
