/** Fused AdamW over packed parameters: spec, segment-table layout and the float64 reference. */
import { type KernelSpec, wgsl } from "../spec.ts";

export const adamwSpec: KernelSpec = {
  name: "adamw",
  source: wgsl("./adamw.wgsl", import.meta.url),
  bindings: ["param", "grad", "exp_avg", "exp_avg_sq", "chunk_param", "segments", "params"],
};

/** Bytes per entry of the `segments` table (struct Segment). */
export const ADAMW_SEGMENT_BYTES = 32;

export interface AdamwSegment {
  /** One past the parameter's last element in the flat buffers. */
  end: number;
  active: boolean;
  stepSize: number;
  bc2Sqrt: number;
  decay: number;
}

export function packAdamwSegments(segs: readonly AdamwSegment[]): Uint8Array {
  const out = new Uint8Array(segs.length * ADAMW_SEGMENT_BYTES);
  const view = new DataView(out.buffer);
  segs.forEach((s, k) => {
    const o = k * ADAMW_SEGMENT_BYTES;
    view.setUint32(o, s.end, true);
    view.setUint32(o + 4, s.active ? 1 : 0, true);
    view.setFloat32(o + 16, s.stepSize, true);
    view.setFloat32(o + 20, s.bc2Sqrt, true);
    view.setFloat32(o + 24, s.decay, true);
  });
  return out;
}

export interface AdamwHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

/** One AdamW step of one parameter in float64, in place; `step` is its count after this step. */
export function adamwReference(
  p: Float64Array,
  g: ArrayLike<number>,
  m: Float64Array,
  v: Float64Array,
  step: number,
  h: AdamwHyper,
): void {
  const stepSize = h.lr / (1 - h.beta1 ** step);
  const bc2Sqrt = Math.sqrt(1 - h.beta2 ** step);
  for (let i = 0; i < p.length; i++) {
    p[i] *= 1 - h.lr * h.weightDecay;
    m[i] = h.beta1 * m[i] + (1 - h.beta1) * g[i];
    v[i] = h.beta2 * v[i] + (1 - h.beta2) * g[i] * g[i];
    p[i] -= stepSize * m[i] / (Math.sqrt(v[i]) / bc2Sqrt + h.eps);
  }
}
