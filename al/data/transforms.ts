/**
 * The image transforms of training, evaluation and the decoded-image cache, in plain TypeScript
 * (float64, on the CPU), with torchvision 0.14's tensor semantics; tested against torchvision.
 * Training and eval inputs are made by their fast float32 twins in resample.ts, tested against
 * `trainTransformReference` and `evalTransformReference` here; the crop draws
 * (`randomResizedCropParams`), the taps (`resizeTaps`) and the decode cache's uint8 resize are
 * used as they are. Normalisation constants: normalization.ts.
 *
 * Images here are `FloatImage`s, CHW like a PyTorch tensor. Resizing follows
 * `torch.nn.functional.interpolate(align_corners=False)`; with `antialias: true` it is PyTorch's
 * `_upsample_{bilinear,bicubic}2d_aa` (PIL's algorithm: the filter is stretched by the scale when
 * shrinking, bicubic uses a = -0.5, weights are renormalised at the borders), applied whatever
 * the direction, as torchvision does when asked for antialias. Without antialias it is plain
 * bilinear (source index clamped at 0) or bicubic (a = -0.75, border pixels replicated).
 */
import type { Image } from "./image.ts";
import type { Random } from "./random.ts";

/** A CHW float image, as a PyTorch tensor [C, H, W]. */
export interface FloatImage {
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  readonly data: Float64Array;
}

export type Interpolation = "bilinear" | "bicubic";

export interface ResizeOptions {
  interpolation: Interpolation;
  antialias: boolean;
}

/** HWC uint8 → CHW float, each value times `scale` (1/255: `ToTensor`). */
export function toFloatImage(img: Image, scale = 1 / 255): FloatImage {
  const { width, height } = img;
  const plane = width * height;
  const data = new Float64Array(3 * plane);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) data[c * plane + p] = img.data[3 * p + c] * scale;
  }
  return { channels: 3, height, width, data };
}

/** CHW float (0..255) → HWC uint8, rounding half to even and clamping, as torchvision's cast. */
export function toImage(x: FloatImage): Image {
  if (x.channels !== 3) throw new RangeError(`an Image has 3 channels, not ${x.channels}`);
  const plane = x.width * x.height;
  const data = new Uint8Array(3 * plane);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) data[3 * p + c] = toByte(x.data[c * plane + p]);
  }
  return { width: x.width, height: x.height, channels: 3, data };
}

function toByte(v: number): number {
  return Math.min(255, Math.max(0, roundHalfEven(v)));
}

/** Python's / PyTorch's `round`: halves go to the even neighbour. */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** torchvision `Resize(size)` with an int: the shorter side becomes `size`, the longer truncates. */
export function shorterSideSize(height: number, width: number, size: number): [number, number] {
  if (width <= height) return [Math.trunc((size * height) / width), size];
  return [size, Math.trunc((size * width) / height)];
}

/**
 * 1-D resampling weights as flat tables, PyTorch's layout: output i reads inputs
 * `index[i·stride + k]` with weights `weight[i·stride + k]`, k < stride; an output with fewer
 * taps is padded with weight 0 (and its last index, so every read is valid).
 */
export interface Taps<W extends Float64Array | Float32Array = Float64Array> {
  readonly size: number;
  readonly stride: number;
  readonly index: Int32Array;
  readonly weight: W;
}

/** 1-D resampling weights from `inSize` to `outSize` samples. */
export function resizeTaps(inSize: number, outSize: number, opts: ResizeOptions): Taps {
  if (!(inSize >= 1 && outSize >= 1)) throw new RangeError(`resize ${inSize} → ${outSize}`);
  const scale = inSize / outSize;
  if (!opts.antialias) {
    const [stride, fill] = opts.interpolation === "bilinear" ? [2, bilinearTaps] : [4, bicubicTaps];
    const taps = emptyTaps(outSize, stride);
    for (let i = 0; i < outSize; i++) fill(i, inSize, scale, taps.index, taps.weight, i * stride);
    return taps;
  }
  const half = opts.interpolation === "bilinear" ? 1 : 2; // interp_size / 2
  const support = scale >= 1 ? half * scale : half;
  // PyTorch's bound on the taps of one output (`_compute_indices_weights_aa`).
  const stride = Math.ceil(support) * 2 + 1;
  const taps = emptyTaps(outSize, stride);
  for (let i = 0; i < outSize; i++) {
    antialiasTaps(i, inSize, scale, support, opts.interpolation, taps, i * stride);
  }
  return taps;
}

function emptyTaps(size: number, stride: number): Taps {
  return {
    size,
    stride,
    index: new Int32Array(size * stride),
    weight: new Float64Array(size * stride),
  };
}

function antialiasTaps(
  i: number,
  inSize: number,
  scale: number,
  support: number,
  mode: Interpolation,
  taps: Taps,
  at: number,
): void {
  const { index, weight, stride } = taps;
  const invScale = scale >= 1 ? 1 / scale : 1;
  const center = scale * (i + 0.5);
  const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
  const xsize = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
  let total = 0;
  for (let j = 0; j < xsize; j++) {
    const x = (j + xmin - center + 0.5) * invScale;
    weight[at + j] = mode === "bilinear" ? triangle(x) : cubic(x, -0.5);
    total += weight[at + j];
  }
  if (total !== 0) { for (let j = 0; j < xsize; j++) weight[at + j] /= total; }
  for (let j = 0; j < stride; j++) index[at + j] = xmin + Math.min(j, xsize - 1);
}

function bilinearTaps(
  i: number,
  inSize: number,
  scale: number,
  index: Int32Array,
  weight: Float64Array,
  at: number,
): void {
  const src = Math.max(scale * (i + 0.5) - 0.5, 0);
  const i0 = Math.trunc(src);
  const l1 = src - i0;
  index[at] = i0;
  index[at + 1] = i0 < inSize - 1 ? i0 + 1 : i0;
  weight[at] = 1 - l1;
  weight[at + 1] = l1;
}

function bicubicTaps(
  i: number,
  inSize: number,
  scale: number,
  index: Int32Array,
  weight: Float64Array,
  at: number,
): void {
  const src = scale * (i + 0.5) - 0.5;
  const x0 = Math.floor(src);
  const t = src - x0;
  const a = -0.75;
  const d = [t + 1, t, 1 - t, 2 - t];
  for (let k = 0; k < 4; k++) {
    index[at + k] = Math.min(Math.max(x0 - 1 + k, 0), inSize - 1);
    weight[at + k] = cubic(d[k], a);
  }
}

function triangle(x: number): number {
  x = Math.abs(x);
  return x < 1 ? 1 - x : 0;
}

/** Keys' cubic convolution kernel with parameter a. */
function cubic(x: number, a: number): number {
  x = Math.abs(x);
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  return 0;
}

/** Resizes to `height × width` (widths first, then heights, as PyTorch's separable kernel). */
export function resize(
  x: FloatImage,
  height: number,
  width: number,
  opts: ResizeOptions,
): FloatImage {
  const cols = resizeTaps(x.width, width, opts);
  const rows = resizeTaps(x.height, height, opts);
  const { channels: C, height: H, width: W } = x;
  const mid = new Float64Array(C * H * width);
  for (let c = 0; c < C; c++) {
    for (let y = 0; y < H; y++) {
      const src = (c * H + y) * W;
      const dst = (c * H + y) * width;
      for (let ox = 0; ox < width; ox++) {
        let s = 0;
        for (let t = ox * cols.stride; t < (ox + 1) * cols.stride; t++) {
          s += cols.weight[t] * x.data[src + cols.index[t]];
        }
        mid[dst + ox] = s;
      }
    }
  }
  const out = new Float64Array(C * height * width);
  for (let c = 0; c < C; c++) {
    for (let oy = 0; oy < height; oy++) {
      const dst = (c * height + oy) * width;
      for (let ox = 0; ox < width; ox++) {
        let s = 0;
        for (let t = oy * rows.stride; t < (oy + 1) * rows.stride; t++) {
          s += rows.weight[t] * mid[(c * H + rows.index[t]) * width + ox];
        }
        out[dst + ox] = s;
      }
    }
  }
  return { channels: C, height, width, data: out };
}

/** `Resize(size)`'s uint8 path (decode cache): float math, one rounding at the end. */
export function resizeImage(
  img: Image,
  height: number,
  width: number,
  opts: ResizeOptions,
): Image {
  return toImage(resize(toFloatImage(img, 1), height, width, opts));
}

/** torchvision `crop`: rows top..top+h, columns left..left+w; outside the image is zero. */
export function crop(x: FloatImage, top: number, left: number, h: number, w: number): FloatImage {
  const { channels: C, height: H, width: W } = x;
  const out = new Float64Array(C * h * w);
  for (let c = 0; c < C; c++) {
    for (let y = 0; y < h; y++) {
      const sy = top + y;
      if (sy < 0 || sy >= H) continue;
      for (let xx = 0; xx < w; xx++) {
        const sx = left + xx;
        if (sx >= 0 && sx < W) out[(c * h + y) * w + xx] = x.data[(c * H + sy) * W + sx];
      }
    }
  }
  return { channels: C, height: h, width: w, data: out };
}

/**
 * torchvision `center_crop`: offset round((H - h) / 2) (half to even); a crop larger than the
 * image zero-pads, ⌊excess / 2⌋ before and the rest after.
 */
export function centerCrop(x: FloatImage, h: number, w: number): FloatImage {
  const offset = (size: number, want: number) =>
    want > size ? -Math.floor((want - size) / 2) : roundHalfEven((size - want) / 2);
  return crop(x, offset(x.height, h), offset(x.width, w), h, w);
}

/** torchvision `resized_crop`: crop, then resize to `height × width`. */
export function resizedCrop(
  x: FloatImage,
  box: CropBox,
  height: number,
  width: number,
  opts: ResizeOptions,
): FloatImage {
  return resize(crop(x, box.top, box.left, box.height, box.width), height, width, opts);
}

export interface CropBox {
  top: number;
  left: number;
  height: number;
  width: number;
}

/**
 * `RandomResizedCrop.get_params`: up to 10 tries of an area fraction uniform in `scale` and an
 * aspect ratio log-uniform in `ratio`; the first box that fits is placed uniformly at random.
 * If none fits: the largest centred box whose ratio is clamped to `ratio`. Draws, in order per
 * try: `uniform()` (area), `uniform()` (log-ratio), and, on success, `int(H-h+1)`, `int(W-w+1)`.
 */
export function randomResizedCropParams(
  height: number,
  width: number,
  scale: readonly [number, number],
  ratio: readonly [number, number],
  rng: Random,
): CropBox {
  const area = height * width;
  const logLo = Math.log(ratio[0]);
  const logHi = Math.log(ratio[1]);
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = area * (scale[0] + (scale[1] - scale[0]) * rng.uniform());
    const aspect = Math.exp(logLo + (logHi - logLo) * rng.uniform());
    const w = roundHalfEven(Math.sqrt(target * aspect));
    const h = roundHalfEven(Math.sqrt(target / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      const top = rng.int(height - h + 1);
      const left = rng.int(width - w + 1);
      return { top, left, height: h, width: w };
    }
  }
  const inRatio = width / height;
  const lo = Math.min(ratio[0], ratio[1]);
  const hi = Math.max(ratio[0], ratio[1]);
  let w = width;
  let h = height;
  if (inRatio < lo) h = roundHalfEven(w / lo);
  else if (inRatio > hi) w = roundHalfEven(h * hi);
  return {
    top: Math.floor((height - h) / 2),
    left: Math.floor((width - w) / 2),
    height: h,
    width: w,
  };
}

/** Mirror left-right. */
export function horizontalFlip(x: FloatImage): FloatImage {
  const { channels: C, height: H, width: W } = x;
  const out = new Float64Array(x.data.length);
  for (let r = 0; r < C * H; r++) {
    for (let c = 0; c < W; c++) out[r * W + c] = x.data[r * W + W - 1 - c];
  }
  return { channels: C, height: H, width: W, data: out };
}

/** (x - mean[c]) / std[c] per channel. */
export function normalize(
  x: FloatImage,
  mean: readonly number[],
  std: readonly number[],
): FloatImage {
  const plane = x.height * x.width;
  const out = new Float64Array(x.data.length);
  for (let c = 0; c < x.channels; c++) {
    for (let p = 0; p < plane; p++) out[c * plane + p] = (x.data[c * plane + p] - mean[c]) / std[c];
  }
  return { ...x, data: out };
}

/**
 * docs/method.md's eval input: `Resize(size)` (bilinear, antialias) then `CenterCrop(size)`;
 * [0, 1].
 */
export function evalTransformReference(img: Image, size = 224): FloatImage {
  const [h, w] = shorterSideSize(img.height, img.width, size);
  const resized = resize(toFloatImage(img), h, w, { interpolation: "bilinear", antialias: true });
  return centerCrop(resized, size, size);
}

export interface TrainTransformOptions {
  size?: number;
  scale?: readonly [number, number];
  ratio?: readonly [number, number];
  interpolation?: Interpolation;
}

/** One draw of the train augmentation: the crop box in the source image, and the flip. */
export interface TrainView {
  box: CropBox;
  flip: boolean;
}

/**
 * Draws `trainTransform`'s augmentation for an image of `height × width`: the crop's draws, then
 * one `uniform()`, flip if < 0.5. Defaults are the student's (scale 0.5–1, ratio 3/4–4/3).
 */
export function drawTrainView(
  height: number,
  width: number,
  rng: Random,
  opts: TrainTransformOptions = {},
): TrainView {
  const box = randomResizedCropParams(
    height,
    width,
    opts.scale ?? [0.5, 1],
    opts.ratio ?? [3 / 4, 4 / 3],
    rng,
  );
  return { box, flip: rng.uniform() < 0.5 };
}

/** A drawn augmentation applied: the box resized to `size × size` (antialias), then the flip. */
export function applyTrainView(
  img: Image,
  view: TrainView,
  size: number,
  interpolation: Interpolation = "bilinear",
): FloatImage {
  const out = resizedCrop(toFloatImage(img), view.box, size, size, {
    interpolation,
    antialias: true,
  });
  return view.flip ? horizontalFlip(out) : out;
}

/**
 * docs/method.md's train input: `RandomResizedCrop(size, scale, ratio, interpolation)` (antialias)
 * then `RandomHorizontalFlip()`; [0, 1]. Draws as `drawTrainView`.
 * Defaults are the student's (224, scale 0.5–1, bilinear); CLAP uses scale 0.08–1, bicubic.
 */
export function trainTransformReference(
  img: Image,
  rng: Random,
  opts: TrainTransformOptions = {},
): FloatImage {
  const view = drawTrainView(img.height, img.width, rng, opts);
  return applyTrainView(img, view, opts.size ?? 224, opts.interpolation);
}
