/** Fused SGD (momentum, Nesterov, weight decay) over packed parameters: spec and reference. */
import { type KernelSpec, wgsl } from "../spec.ts";

export const sgdSpec: KernelSpec = {
  name: "sgd",
  source: wgsl("./sgd.wgsl", import.meta.url),
  bindings: ["param", "grad", "momentum_buffer", "chunk_param", "segments", "params"],
};

/** Bytes per entry of the `segments` table (struct Segment). */
export const SGD_SEGMENT_BYTES = 16;

export interface SgdSegment {
  /** One past the parameter's last element in the flat buffers. */
  end: number;
  active: boolean;
  /** The parameter's first momentum step: the buffer starts as a copy of the update. */
  first: boolean;
}

export function packSgdSegments(segs: readonly SgdSegment[]): Uint8Array {
  const out = new Uint8Array(segs.length * SGD_SEGMENT_BYTES);
  const view = new DataView(out.buffer);
  segs.forEach((s, k) => {
    const o = k * SGD_SEGMENT_BYTES;
    view.setUint32(o, s.end, true);
    view.setUint32(o + 4, s.active ? 1 : 0, true);
    view.setUint32(o + 8, s.first ? 1 : 0, true);
  });
  return out;
}

export interface SgdHyper {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
}

/** One SGD step of one parameter in float64, in place (`first`: no momentum buffer yet). */
export function sgdReference(
  p: Float64Array,
  g: ArrayLike<number>,
  buf: Float64Array,
  first: boolean,
  h: SgdHyper,
): void {
  for (let i = 0; i < p.length; i++) {
    let d = g[i] + h.weightDecay * p[i];
    if (h.momentum !== 0) {
      buf[i] = first ? d : h.momentum * buf[i] + (1 - h.dampening) * d;
      d = h.nesterov ? d + h.momentum * buf[i] : buf[i];
    }
    p[i] -= h.lr * d;
  }
}
