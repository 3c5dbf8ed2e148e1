/**
 * The model-input transforms of `transforms_ref.ts` on the GPU, a whole batch per dispatch
 * (kernels/image/resized_crop.wgsl): uint8 HWC images of any sizes (or one packed same-size
 * batch, IDX data) → f32 [B, 3, S, S], normalised.
 *
 * The host turns each image's crop box, resize (antialias taps from `resizeTaps`, PyTorch's
 * semantics) and flip into tap tables; the kernel only sums and normalises. Random draws (crop
 * boxes, flips) are made here, from the caller's `augment` stream, in exactly `trainTransform`'s
 * order, so a GPU batch equals the float64 reference batch from the same generator state.
 */
import { engine } from "../../engine/context.ts";
import { empty, scope, type Tensor, tensor } from "../../engine/tensor.ts";
import { alignedSize } from "../../engine/buffer_pool.ts";
import { resizedCropSpec, type ResizedCropTables } from "../../kernels/image/resized_crop.ts";
import type { Image } from "./image.ts";
import type { Random } from "./random.ts";
import {
  type CropBox,
  IMAGENET_MEAN,
  IMAGENET_STD,
  type Interpolation,
  randomResizedCropParams,
  resizeTaps,
  roundHalfEven,
  shorterSideSize,
  type Taps,
  type TrainTransformOptions,
} from "./transforms_ref.ts";

const WG = 16; // the kernel's default workgroup side
const MAX_IMAGES_PER_DISPATCH = 65535; // workgroups along z

/** The uint8 pixels of a batch, image by image (HWC, 1 or 3 channels). */
interface PixelSource {
  readonly length: number;
  height(i: number): number;
  width(i: number): number;
  channels(i: number): number;
  bytes(i: number): Uint8Array;
}

/** Where each output row and column of one image samples the source (absolute indices). */
interface ImagePlan {
  rows: Taps;
  cols: Taps;
}

/**
 * METHOD.md's eval input on the GPU: `Resize(size)` (shorter side, bilinear, antialias) then
 * `CenterCrop(size)`, then `(x/255 - mean) / std`: f32 [B, 3, size, size].
 */
export function gpuEvalBatch(
  images: readonly Image[],
  size = 224,
  mean: readonly number[] = IMAGENET_MEAN,
  std: readonly number[] = IMAGENET_STD,
): Tensor {
  return evalBatch(imageSource(images), size, mean, std);
}

/**
 * METHOD.md's train input on the GPU: `RandomResizedCrop(size, scale, ratio, interpolation)`
 * (antialias) + `RandomHorizontalFlip()`, normalised: f32 [B, 3, size, size]. Draws from `rng`
 * image by image exactly as `trainTransform` does (crop, then the flip's `uniform()`).
 */
export function gpuTrainBatch(
  images: readonly Image[],
  rng: Random,
  opts: TrainTransformOptions = {},
  mean: readonly number[] = IMAGENET_MEAN,
  std: readonly number[] = IMAGENET_STD,
): Tensor {
  return trainBatch(imageSource(images), rng, opts, mean, std);
}

/**
 * `gpuTrainBatch` for `n` same-size images packed back to back (`n × height × width ×
 * channels` bytes, channels 1 or 3; grey becomes RGB), as IDX files store them.
 */
export function gpuTrainBatchUniform(
  pixels: Uint8Array,
  n: number,
  height: number,
  width: number,
  channels: number,
  rng: Random,
  opts: TrainTransformOptions = {},
  mean: readonly number[] = IMAGENET_MEAN,
  std: readonly number[] = IMAGENET_STD,
): Tensor {
  return trainBatch(uniformSource(pixels, n, height, width, channels), rng, opts, mean, std);
}

/** `gpuEvalBatch` for a packed same-size batch (see `gpuTrainBatchUniform`). */
export function gpuEvalBatchUniform(
  pixels: Uint8Array,
  n: number,
  height: number,
  width: number,
  channels: number,
  size = 224,
  mean: readonly number[] = IMAGENET_MEAN,
  std: readonly number[] = IMAGENET_STD,
): Tensor {
  return evalBatch(uniformSource(pixels, n, height, width, channels), size, mean, std);
}

/**
 * torchvision `resized_crop` (+ `hflip` where `flips[i]`) of each image to `height × width`,
 * antialiased, normalised. Boxes may reach outside the image: that part is zero, as `crop`.
 */
export function gpuResizedCrop(
  images: readonly Image[],
  boxes: readonly CropBox[],
  flips: readonly boolean[],
  height: number,
  width: number,
  interpolation: Interpolation = "bilinear",
  mean: readonly number[] = IMAGENET_MEAN,
  std: readonly number[] = IMAGENET_STD,
): Tensor {
  if (boxes.length !== images.length || flips.length !== images.length) {
    throw new RangeError(
      `${images.length} images, ${boxes.length} boxes and ${flips.length} flips`,
    );
  }
  checkSize(height);
  checkSize(width);
  const src = imageSource(images);
  const plans = boxes.map((box, i) =>
    cropPlan(src.height(i), src.width(i), box, height, width, interpolation, flips[i])
  );
  return resample(src, plans, height, width, mean, std);
}

function evalBatch(
  src: PixelSource,
  size: number,
  mean: readonly number[],
  std: readonly number[],
): Tensor {
  checkSize(size);
  const plans: ImagePlan[] = [];
  for (let i = 0; i < src.length; i++) {
    const [h, w] = [src.height(i), src.width(i)];
    const [rh, rw] = shorterSideSize(h, w, size);
    plans.push({
      rows: axisTaps(h, 0, h, rh, centerOffset(rh, size), size, "bilinear"),
      cols: axisTaps(w, 0, w, rw, centerOffset(rw, size), size, "bilinear"),
    });
  }
  return resample(src, plans, size, size, mean, std);
}

function trainBatch(
  src: PixelSource,
  rng: Random,
  opts: TrainTransformOptions,
  mean: readonly number[],
  std: readonly number[],
): Tensor {
  // trainTransform's defaults: the student's crop.
  const size = opts.size ?? 224;
  const scale = opts.scale ?? [0.5, 1];
  const ratio = opts.ratio ?? [3 / 4, 4 / 3];
  const interpolation = opts.interpolation ?? "bilinear";
  checkSize(size);
  const plans: ImagePlan[] = [];
  for (let i = 0; i < src.length; i++) {
    const box = randomResizedCropParams(src.height(i), src.width(i), scale, ratio, rng);
    const flip = rng.uniform() < 0.5;
    plans.push(cropPlan(src.height(i), src.width(i), box, size, size, interpolation, flip));
  }
  return resample(src, plans, size, size, mean, std);
}

/** torchvision `center_crop`'s offset (negative: zero padding before). */
function centerOffset(size: number, want: number): number {
  return want > size ? -Math.floor((want - size) / 2) : roundHalfEven((size - want) / 2);
}

function cropPlan(
  height: number,
  width: number,
  box: CropBox,
  outH: number,
  outW: number,
  interpolation: Interpolation,
  flip: boolean,
): ImagePlan {
  if (!(box.height >= 1 && box.width >= 1)) {
    throw new RangeError(`crop box ${box.height}×${box.width} is empty`);
  }
  const rows = axisTaps(height, box.top, box.height, outH, 0, outH, interpolation);
  const cols = axisTaps(width, box.left, box.width, outW, 0, outW, interpolation);
  if (flip) {
    cols.index.reverse();
    cols.weight.reverse();
  }
  return { rows, cols };
}

const NO_INDEX = new Int32Array(0);
const NO_WEIGHT = new Float64Array(0);

/**
 * One axis: source samples `start .. start+length` (the crop; may reach outside `0..inSize`)
 * are resized to `resized` samples, of which outputs `offset .. offset+outSize` are kept (a
 * centre crop; outside `0..resized` is zero). Taps falling outside the source are dropped: the
 * crop's zero padding adds nothing. Antialias taps are contiguous runs, as the kernel needs.
 */
function axisTaps(
  inSize: number,
  start: number,
  length: number,
  resized: number,
  offset: number,
  outSize: number,
  interpolation: Interpolation,
): Taps {
  const full = resizeTaps(length, resized, { interpolation, antialias: true });
  const index: Int32Array[] = [];
  const weight: Float64Array[] = [];
  for (let o = 0; o < outSize; o++) {
    const r = offset + o;
    if (r < 0 || r >= resized) {
      index.push(NO_INDEX);
      weight.push(NO_WEIGHT);
      continue;
    }
    const idx = full.index[r];
    let a = 0;
    let b = idx.length;
    while (a < b && start + idx[a] < 0) a++;
    while (b > a && start + idx[b - 1] >= inSize) b--;
    index.push(idx.subarray(a, b).map((i) => i + start));
    weight.push(full.weight[r].subarray(a, b));
  }
  return { index, weight };
}

/** Runs the kernel over as many dispatches as the storage-binding limit needs. */
function resample(
  src: PixelSource,
  plans: ImagePlan[],
  outH: number,
  outW: number,
  mean: readonly number[],
  std: readonly number[],
): Tensor {
  checkNormalisation(mean, std);
  const limits = engine().gpu.limits;
  const budget = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  const sizes = Array.from({ length: src.length }, (_, i) => src.bytes(i).length);
  const runs = dispatchRuns(sizes, budget);
  const out = empty([src.length, 3, outH, outW]);
  for (const [first, end] of runs) {
    scope(() => dispatchChunk(src, plans, first, end, outH, outW, mean, std, out));
  }
  return out;
}

/**
 * Consecutive runs `[first, end)` of images whose packed bytes (in pool granules) fit one
 * storage binding of `budget` bytes, at most 65,535 images (workgroups along z) each. An image
 * too large on its own is an error.
 */
export function dispatchRuns(sizes: readonly number[], budget: number): [number, number][] {
  const runs: [number, number][] = [];
  let first = 0;
  while (first < sizes.length) {
    let end = first;
    let bytes = 0;
    while (
      end < sizes.length && end - first < MAX_IMAGES_PER_DISPATCH &&
      alignedSize(bytes + sizes[end]) <= budget
    ) {
      bytes += sizes[end++];
    }
    if (end === first) {
      throw new RangeError(
        `image ${first} (${sizes[first]} bytes) does not fit a ${budget}-byte GPU storage binding`,
      );
    }
    runs.push([first, end]);
    first = end;
  }
  return runs;
}

function dispatchChunk(
  src: PixelSource,
  plans: ImagePlan[],
  first: number,
  end: number,
  outH: number,
  outW: number,
  mean: readonly number[],
  std: readonly number[],
  out: Tensor,
): void {
  const { pixels, tables } = pack(src, plans, first, end, outH, outW);
  const px = empty([pixels.length], "u8");
  engine().stream.write(px.buffer, 0, pixels);
  engine().dispatch(resizedCropSpec, {
    buffers: {
      pixels: px.buffer,
      images: tensor(tables.images, [tables.images.length], "u32").buffer,
      taps: tensor(tables.taps, [tables.taps.length], "u32").buffer,
      weights: tensor(tables.weights, [tables.weights.length], "f32").buffer,
      out: out.buffer,
    },
    uniforms: {
      out_h: outH,
      out_w: outW,
      batch: tables.batch,
      max_taps: tables.maxTaps,
      col_base: tables.batch * outH,
      first,
      _p0: 0,
      _p1: 0,
      mean: [mean[0], mean[1], mean[2], 0],
      stdev: [std[0], std[1], std[2], 1],
    },
    workgroups: [Math.ceil(outW / WG), Math.ceil(outH / WG), tables.batch],
    label: "resized_crop",
  });
}

/** Images `first..end` packed into one byte buffer (whole words) and their tables. */
function pack(
  src: PixelSource,
  plans: ImagePlan[],
  first: number,
  end: number,
  outH: number,
  outW: number,
): { pixels: Uint8Array; tables: ResizedCropTables } {
  const batch = end - first;
  const images = new Uint32Array(4 * batch);
  let bytes = 0;
  for (let b = 0; b < batch; b++) {
    const i = first + b;
    images.set([bytes, src.width(i) * src.channels(i), src.channels(i), 0], 4 * b);
    bytes += src.bytes(i).length;
  }
  const pixels = new Uint8Array(Math.ceil(bytes / 4) * 4);
  for (let b = 0; b < batch; b++) pixels.set(src.bytes(first + b), images[4 * b]);

  const axes: Taps[] = [];
  for (let b = 0; b < batch; b++) axes.push(plans[first + b].rows);
  for (let b = 0; b < batch; b++) axes.push(plans[first + b].cols);
  let maxTaps = 1;
  for (const a of axes) for (const w of a.weight) maxTaps = Math.max(maxTaps, w.length);
  const entries = batch * (outH + outW);
  const taps = new Uint32Array(2 * entries);
  const weights = new Float32Array(entries * maxTaps);
  let e = 0;
  for (const a of axes) {
    for (let o = 0; o < a.index.length; o++, e++) {
      const idx = a.index[o];
      taps[2 * e] = idx.length > 0 ? idx[0] : 0;
      taps[2 * e + 1] = idx.length;
      weights.set(a.weight[o], e * maxTaps);
    }
  }
  return {
    pixels,
    tables: { batch, outHeight: outH, outWidth: outW, images, taps, weights, maxTaps },
  };
}

function imageSource(images: readonly Image[]): PixelSource {
  images.forEach((img, i) => {
    if (!(img.width >= 1 && img.height >= 1) || img.data.length !== img.width * img.height * 3) {
      throw new RangeError(
        `image ${i}: ${img.data.length} bytes for ${img.width}×${img.height} RGB`,
      );
    }
  });
  return {
    length: images.length,
    height: (i) => images[i].height,
    width: (i) => images[i].width,
    channels: () => 3,
    bytes: (i) => images[i].data,
  };
}

function uniformSource(
  pixels: Uint8Array,
  n: number,
  height: number,
  width: number,
  channels: number,
): PixelSource {
  if (channels !== 1 && channels !== 3) throw new RangeError(`channels ${channels}: 1 or 3`);
  if (![n, height, width].every((d) => Number.isInteger(d) && d >= 0) || height * width === 0) {
    throw new RangeError(`batch shape ${n}×${height}×${width}`);
  }
  const size = height * width * channels;
  if (pixels.length !== n * size) {
    throw new RangeError(`${pixels.length} bytes for ${n}×${height}×${width}×${channels}`);
  }
  return {
    length: n,
    height: () => height,
    width: () => width,
    channels: () => channels,
    bytes: (i) => pixels.subarray(i * size, (i + 1) * size),
  };
}

function checkSize(size: number): void {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`output size ${size}`);
}

function checkNormalisation(mean: readonly number[], std: readonly number[]): void {
  if (mean.length !== 3 || std.length !== 3) {
    throw new RangeError(`mean/std need 3 values each, got ${mean.length} and ${std.length}`);
  }
  if (!mean.every(Number.isFinite) || !std.every((s) => Number.isFinite(s) && s !== 0)) {
    throw new RangeError(`mean [${mean}] / std [${std}] must be finite, std non-zero`);
  }
}
