/** Dtype conversion: spec, mode table and reference. */
import { type KernelSpec, wgsl } from "../spec.ts";
import type { DType } from "../../engine/tensor.ts";

export const castSpec: KernelSpec = {
  name: "cast",
  source: wgsl("./cast.wgsl", import.meta.url),
  bindings: ["x", "out", "params"],
};

/** Kernel MODE for each supported `from>to` pair. */
export const CAST_MODES: Readonly<Record<string, number>> = {
  "f32>i32": 0,
  "f32>u32": 1,
  "i32>f32": 2,
  "u32>f32": 3,
  "i32>u32": 4,
  "u32>i32": 5,
  "u8>f32": 6,
  "u8>i32": 7,
  "u8>u32": 7,
  "f16>f32": 8,
  "f32>f16": 9,
};

/** The value a cast produces for one element (f16 results are the rounded f32 value). */
export function castReference(v: number, from: DType, to: DType): number {
  if (to === "f32" || to === "f16") return v;
  if (from === "f32" || from === "f16") {
    if (Number.isNaN(v)) return 0;
    // WGSL saturates at the largest float below the integer limit (2^31 − 128, 2^32 − 256).
    const t = Math.trunc(v);
    return to === "i32"
      ? Math.max(-(2 ** 31), Math.min(2 ** 31 - 128, t))
      : Math.max(0, Math.min(2 ** 32 - 256, t));
  }
  return to === "u32" ? v >>> 0 : v | 0;
}
