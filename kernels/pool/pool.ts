/** Pooling kernels (channels-last): specs, modes and float64 references (NCHW). */
import { type KernelSpec, wgsl } from "../spec.ts";

export const poolSpec: KernelSpec = {
  name: "pool2d",
  source: wgsl("./pool.wgsl", import.meta.url),
  bindings: ["x", "y", "indices", "params"],
};

export const poolBackwardSpec: KernelSpec = {
  name: "pool2d_backward",
  source: wgsl("./pool_backward.wgsl", import.meta.url),
  bindings: ["g", "indices", "dx", "params"],
};

export const POOL_MODES = { max: 0, avg: 1, adaptive_avg: 2 } as const;
export type PoolMode = keyof typeof POOL_MODES;

export interface PoolWindow {
  kernel: [number, number];
  stride: [number, number];
  padding: [number, number];
  dilation: [number, number];
  ceilMode: boolean;
  countIncludePad: boolean;
}

/** PyTorch's pooling output size along one axis (ceil_mode: a last window must start inside). */
export function poolOutputSize(
  size: number,
  k: number,
  s: number,
  p: number,
  d: number,
  ceilMode: boolean,
): number {
  const span = size + 2 * p - d * (k - 1) - 1;
  let out = (ceilMode ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceilMode && (out - 1) * s >= size + p) out--;
  return out;
}

/** Reference: max / avg pooling of NCHW host data in float64 (and the max's plane indices). */
export function poolReference(
  mode: "max" | "avg",
  x: ArrayLike<number>,
  shape: readonly number[],
  w: PoolWindow,
): { out: Float64Array; indices: Int32Array; shape: number[] } {
  const [n, c, h, wd] = shape;
  const oh = poolOutputSize(h, w.kernel[0], w.stride[0], w.padding[0], w.dilation[0], w.ceilMode);
  const ow = poolOutputSize(wd, w.kernel[1], w.stride[1], w.padding[1], w.dilation[1], w.ceilMode);
  const out = new Float64Array(n * c * oh * ow);
  const indices = new Int32Array(out.length);
  for (let b = 0; b < n * c; b++) {
    for (let y = 0; y < oh; y++) {
      for (let xo = 0; xo < ow; xo++) {
        const hs = y * w.stride[0] - w.padding[0], ws = xo * w.stride[1] - w.padding[1];
        let best = -Infinity, arg = -1, s = 0;
        for (let ky = 0; ky < w.kernel[0]; ky++) {
          const iy = hs + ky * w.dilation[0];
          if (iy < 0 || iy >= h) continue;
          for (let kx = 0; kx < w.kernel[1]; kx++) {
            const ix = ws + kx * w.dilation[1];
            if (ix < 0 || ix >= wd) continue;
            const v = x[(b * h + iy) * wd + ix];
            if (arg < 0 || v > best || Number.isNaN(v)) {
              best = v;
              arg = iy * wd + ix;
            }
            s += v;
          }
        }
        const he = Math.min(hs + w.kernel[0], h + w.padding[0]);
        const we = Math.min(ws + w.kernel[1], wd + w.padding[1]);
        const count = w.countIncludePad
          ? (he - hs) * (we - ws)
          : (Math.min(he, h) - Math.max(hs, 0)) * (Math.min(we, wd) - Math.max(ws, 0));
        const at = (b * oh + y) * ow + xo;
        out[at] = mode === "max" ? best : s / count;
        indices[at] = arg;
      }
    }
  }
  return { out, indices, shape: [n, c, oh, ow] };
}

/** Reference: adaptive average pooling of NCHW host data to [OH, OW] in float64. */
export function adaptiveAvgPoolReference(
  x: ArrayLike<number>,
  shape: readonly number[],
  [oh, ow]: [number, number],
): Float64Array {
  const [n, c, h, w] = shape;
  const out = new Float64Array(n * c * oh * ow);
  for (let b = 0; b < n * c; b++) {
    for (let y = 0; y < oh; y++) {
      const y0 = Math.floor((y * h) / oh), y1 = Math.ceil(((y + 1) * h) / oh);
      for (let xo = 0; xo < ow; xo++) {
        const x0 = Math.floor((xo * w) / ow), x1 = Math.ceil(((xo + 1) * w) / ow);
        let s = 0;
        for (let iy = y0; iy < y1; iy++) {
          for (let ix = x0; ix < x1; ix++) s += x[(b * h + iy) * w + ix];
        }
        out[(b * oh + y) * ow + xo] = s / ((y1 - y0) * (x1 - x0));
      }
    }
  }
  return out;
}
