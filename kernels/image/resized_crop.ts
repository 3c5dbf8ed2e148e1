/** Batched crop + resize + flip + normalise of uint8 images: spec, table layout, reference. */
import { type KernelSpec, wgsl } from "../spec.ts";

export const resizedCropSpec: KernelSpec = {
  name: "resized_crop",
  source: wgsl("./resized_crop.wgsl", import.meta.url),
  bindings: ["pixels", "images", "taps", "weights", "out", "params"],
};

/** Everything the kernel reads besides the pixels (see resized_crop.wgsl for the layout). */
export interface ResizedCropTables {
  batch: number;
  outHeight: number;
  outWidth: number;
  /** Per image: byte offset, row stride in bytes, channels (1 or 3), 0. */
  images: Uint32Array;
  /** (first source index, count) per output row of every image, then per output column. */
  taps: Uint32Array;
  /** Tap weights, `maxTaps` slots per taps entry. */
  weights: Float32Array;
  maxTaps: number;
}

/**
 * Float64 evaluation of the kernel on the same tables: out[b, c, y, x] =
 * (Σ_i wy_i Σ_j wx_j pixel / 255 - mean[c]) / std[c], grey replicated to the 3 channels.
 */
export function resizedCropReference(
  pixels: Uint8Array,
  t: ResizedCropTables,
  mean: readonly number[],
  std: readonly number[],
): Float64Array {
  const { batch, outHeight: H, outWidth: W, maxTaps: K } = t;
  const out = new Float64Array(batch * 3 * H * W);
  const colBase = batch * H;
  for (let b = 0; b < batch; b++) {
    const [offset, stride, channels] = t.images.subarray(4 * b, 4 * b + 3);
    for (let y = 0; y < H; y++) {
      const row = b * H + y;
      for (let x = 0; x < W; x++) {
        const col = colBase + b * W + x;
        const acc = [0, 0, 0];
        for (let i = 0; i < t.taps[2 * row + 1]; i++) {
          const start = offset + (t.taps[2 * row] + i) * stride + t.taps[2 * col] * channels;
          const line = [0, 0, 0];
          for (let j = 0; j < t.taps[2 * col + 1]; j++) {
            const p = start + j * channels;
            for (let c = 0; c < 3; c++) {
              line[c] += t.weights[col * K + j] * pixels[p + (channels === 3 ? c : 0)] / 255;
            }
          }
          for (let c = 0; c < 3; c++) acc[c] += t.weights[row * K + i] * line[c];
        }
        for (let c = 0; c < 3; c++) {
          out[((b * 3 + c) * H + y) * W + x] = (acc[c] - mean[c]) / std[c];
        }
      }
    }
  }
  return out;
}
