/**
 * The fast twins of transforms.ts's float64 train and eval transforms, which stay the reference
 * (`trainTransformReference`, `evalTransformReference`): crop, separable resampling, flip and
 * normalisation fused into two passes over the HWC uint8 pixels, writing CHW float32 straight
 * into the batch. Same semantics: the taps are transforms.ts's `resizeTaps` (torchvision's,
 * antialias support included), the draws are the same, widths are resampled before heights. The
 * taps are built once per (input size, output size, filter) and reused; the intermediate rows
 * are float32 and sums run in float64, so the result differs from the reference by float32
 * rounding only (tests/al/data/resample_test.ts states the bound).
 *
 * Why: the reference spends ~6 ms on a 500×375 → 224 crop (the whole image converted to
 * float64, the crop copied, resized, flipped and normalised, each into a new array); this path
 * reads only the pixels the taps need and allocates nothing per image: ~2 ms (measured on this
 * 2-core machine under load, .scratch profiling; `akd bench data` reports both).
 */
import type { Image } from "./image.ts";
import type { Random } from "./random.ts";
import {
  drawTrainView,
  type Interpolation,
  type ResizeOptions,
  resizeTaps,
  roundHalfEven,
  shorterSideSize,
  type Taps,
  type TrainTransformOptions,
  type TrainView,
} from "./transforms.ts";

/** Per-channel `(x - mean) / std` applied to x in [0, 1]. */
export interface Normalization {
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

/** `Taps` with float32 weights. */
export type TapTable = Taps<Float32Array>;

const tables = new Map<string, TapTable>();
/** Enough for every crop size of an ImageNet-sized pass; beyond it the cache starts over. */
const MAX_TABLES = 4096;

/** `resizeTaps(inSize, outSize, opts)` with float32 weights, built once and then shared. */
export function tapTable(inSize: number, outSize: number, opts: ResizeOptions): TapTable {
  const key = `${inSize} ${outSize} ${opts.interpolation} ${opts.antialias}`;
  let t = tables.get(key);
  if (t === undefined) {
    if (tables.size >= MAX_TABLES) tables.clear();
    t = trimmed(resizeTaps(inSize, outSize, opts));
    tables.set(key, t);
  }
  return t;
}

/**
 * float32 weights, without the trailing taps that are zero for every output: PyTorch's stride
 * bound (ceil(support)·2 + 1) is up to two taps wider than any output needs, and those taps
 * would add exact zeros.
 */
function trimmed(taps: Taps): TapTable {
  const { size, stride: wide } = taps;
  let stride = 1;
  for (let i = 0; i < size; i++) {
    for (let k = wide - 1; k >= stride; k--) {
      if (taps.weight[i * wide + k] !== 0) stride = k + 1;
    }
  }
  const index = new Int32Array(size * stride);
  const weight = new Float32Array(size * stride);
  for (let i = 0; i < size; i++) {
    index.set(taps.index.subarray(i * wide, i * wide + stride), i * stride);
    weight.set(taps.weight.subarray(i * wide, i * wide + stride), i * stride);
  }
  return { size, stride, index, weight };
}

/** A sub-range of a table's outputs (a crop of the resized image). */
export function sliceTaps(t: TapTable, from: number, size: number): TapTable {
  if (!(from >= 0 && size >= 1 && from + size <= t.size)) {
    throw new RangeError(`outputs ${from}..${from + size - 1} of ${t.size}`);
  }
  const s = t.stride;
  return {
    size,
    stride: s,
    index: t.index.subarray(from * s, (from + size) * s),
    weight: t.weight.subarray(from * s, (from + size) * s),
  };
}

// Scratch reused across images (grown, never shrunk): no allocation per image.
let scratchRows = new Float32Array(0);
let scratchRow = new Float64Array(0);

/**
 * Resamples the region of `img` at (`top`, `left`) with `rows` (heights) and `cols` (widths),
 * mirrors it left-right when `flip`, normalises it and writes it as CHW float32 at
 * `out[offset..offset + 3·rows.size·cols.size)`. Every tap must fall inside the image.
 */
export function resampleInto(
  img: Image,
  top: number,
  left: number,
  rows: TapTable,
  cols: TapTable,
  flip: boolean,
  norm: Normalization,
  out: Float32Array,
  offset: number,
): void {
  const { width: W, height: H, data: src } = img;
  const outH = rows.size;
  const outW = cols.size;
  const [r0, r1] = extent(rows.index);
  const [c0, c1] = extent(cols.index);
  if (top + r0 < 0 || top + r1 >= H || left + c0 < 0 || left + c1 >= W) {
    throw new RangeError(
      `rows ${top + r0}..${top + r1}, columns ${left + c0}..${left + c1} outside ${H}×${W}`,
    );
  }
  if (offset + 3 * outH * outW > out.length) {
    throw new RangeError(`${3 * outH * outW} values at ${offset} overrun ${out.length}`);
  }
  const rowLen = 3 * outW;
  const nRows = r1 - r0 + 1;
  if (scratchRows.length < nRows * rowLen) scratchRows = new Float32Array(nRows * rowLen);
  if (scratchRow.length < rowLen) scratchRow = new Float64Array(rowLen);
  resampleWidths(src, ((top + r0) * W + left) * 3, 3 * W, nRows, cols, scratchRows);
  const a = norm.std.map((s) => 1 / (255 * s));
  const b = norm.mean.map((m, c) => -m / norm.std[c]);
  resampleHeights(scratchRows, r0, rows, outW, flip, a, b, scratchRow, out, offset);
}

/** Each of `nRows` HWC uint8 rows (the first at `start`, `step` apart) → `cols.size` RGB values. */
function resampleWidths(
  src: Uint8Array,
  start: number,
  step: number,
  nRows: number,
  cols: TapTable,
  mid: Float32Array,
): void {
  const outW = cols.size;
  const cs = cols.stride;
  const ci = cols.index;
  const cw = cols.weight;
  let m = 0;
  for (let r = 0; r < nRows; r++) {
    const base = start + r * step;
    for (let ox = 0; ox < outW; ox++) {
      let s0 = 0, s1 = 0, s2 = 0;
      for (let t = ox * cs, end = t + cs; t < end; t++) {
        const w = cw[t];
        const p = base + 3 * ci[t];
        s0 += w * src[p];
        s1 += w * src[p + 1];
        s2 += w * src[p + 2];
      }
      mid[m++] = s0;
      mid[m++] = s1;
      mid[m++] = s2;
    }
  }
}

/**
 * Heights, one output row at a time over `mid`'s rows (row 0 is source row `r0`), then flip and
 * `x · a[c] + b[c]` into the CHW planes at `out[offset..]`.
 */
function resampleHeights(
  mid: Float32Array,
  r0: number,
  rows: TapTable,
  outW: number,
  flip: boolean,
  a: number[],
  b: number[],
  acc: Float64Array,
  out: Float32Array,
  offset: number,
): void {
  const [a0, a1, a2] = a;
  const [b0, b1, b2] = b;
  const outH = rows.size;
  const rowLen = 3 * outW;
  const plane = outH * outW;
  const rs = rows.stride;
  const ri = rows.index;
  const rw = rows.weight;
  for (let oy = 0; oy < outH; oy++) {
    acc.fill(0, 0, rowLen);
    for (let t = oy * rs, end = t + rs; t < end; t++) {
      const w = rw[t];
      if (w === 0) continue;
      const base = (ri[t] - r0) * rowLen;
      for (let i = 0; i < rowLen; i++) acc[i] += w * mid[base + i];
    }
    const o = offset + oy * outW;
    for (let ox = 0; ox < outW; ox++) {
      const d = o + (flip ? outW - 1 - ox : ox);
      out[d] = acc[3 * ox] * a0 + b0;
      out[d + plane] = acc[3 * ox + 1] * a1 + b1;
      out[d + 2 * plane] = acc[3 * ox + 2] * a2 + b2;
    }
  }
}

function extent(index: Int32Array): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < index.length; i++) {
    if (index[i] < lo) lo = index[i];
    if (index[i] > hi) hi = index[i];
  }
  return [lo, hi];
}

/**
 * `normalize(applyTrainView(img, view, size, interpolation))`: a drawn crop box resized to
 * `size × size` (antialias), then the drawn flip, written at `out[offset..]`.
 */
export function trainViewInto(
  img: Image,
  view: TrainView,
  size: number,
  interpolation: Interpolation = "bilinear",
  norm: Normalization,
  out: Float32Array,
  offset: number,
): void {
  const resize = { interpolation, antialias: true };
  const rows = tapTable(view.box.height, size, resize);
  const cols = tapTable(view.box.width, size, resize);
  resampleInto(img, view.box.top, view.box.left, rows, cols, view.flip, norm, out, offset);
}

/**
 * `normalize(trainTransformReference(img, rng, opts))` (RandomResizedCrop, antialias, then
 * horizontal flip), same draws, written at `out[offset..]`.
 */
export function trainTransformInto(
  img: Image,
  rng: Random,
  opts: TrainTransformOptions,
  norm: Normalization,
  out: Float32Array,
  offset: number,
): void {
  const view = drawTrainView(img.height, img.width, rng, opts);
  trainViewInto(img, view, opts.size ?? 224, opts.interpolation, norm, out, offset);
}

/**
 * `normalize(evalTransformReference(img, size))` (shorter side to `size`, bilinear antialias,
 * centre crop): only the resized pixels the crop keeps are computed.
 */
export function evalTransformInto(
  img: Image,
  size: number,
  norm: Normalization,
  out: Float32Array,
  offset: number,
): void {
  const [h, w] = shorterSideSize(img.height, img.width, size);
  const resize = { interpolation: "bilinear", antialias: true } as const;
  // centerCrop's offsets; the resized image is never smaller than the crop here.
  const rows = sliceTaps(tapTable(img.height, h, resize), roundHalfEven((h - size) / 2), size);
  const cols = sliceTaps(tapTable(img.width, w, resize), roundHalfEven((w - size) / 2), size);
  resampleInto(img, 0, 0, rows, cols, false, norm, out, offset);
}
