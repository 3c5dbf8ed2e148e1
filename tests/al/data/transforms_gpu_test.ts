// GPU transforms against the float64 reference transforms (transforms_ref.ts) and torchvision's
// values (fixtures/transforms.json). Tolerance: |gpu - ref| <= 1e-5 on the [0, 1] scale, 1e-5 /
// min(std) after normalising (f32 weights and sums; the largest error measured on both backends
// is 3e-7). Against torchvision's uint8 resize, which rounds its float32 result: within half a
// level plus 1e-3. Random draws must match exactly: same boxes, flips and generator state after.
import assert from "node:assert/strict";
import { assertClose, gpuTest } from "../../gpu.ts";
import { engine } from "../../../engine/context.ts";
import { Rng } from "../../../engine/rng.ts";
import { scopeAsync, type Tensor, tensor } from "../../../engine/tensor.ts";
import { greyToRgb, type Image } from "../../../al/data/image.ts";
import {
  CLIP_MEAN,
  CLIP_STD,
  evalTransform,
  type FloatImage,
  horizontalFlip,
  IMAGENET_MEAN,
  IMAGENET_STD,
  type Interpolation,
  normalize,
  randomResizedCropParams,
  resizedCrop,
  toFloatImage,
  trainTransform,
  type TrainTransformOptions,
} from "../../../al/data/transforms_ref.ts";
import {
  dispatchRuns,
  gpuEvalBatch,
  gpuEvalBatchUniform,
  gpuResizedCrop,
  gpuTrainBatch,
  gpuTrainBatchUniform,
} from "../../../al/data/transforms_gpu.ts";
import {
  resizedCropReference,
  resizedCropSpec,
  type ResizedCropTables,
} from "../../../kernels/image/resized_crop.ts";
import { decodeBase64 } from "./base64.ts";

const ATOL = 1e-5;
/** The values of the tensor `make` returns; the tensor is freed. */
const values = (make: () => Tensor) => scopeAsync(() => make().read());
const PLAIN = { mean: [0, 0, 0], std: [1, 1, 1] };
const fixture = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/transforms.json", import.meta.url)),
);

function bytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

function rgb(height: number, width: number, seed: number): Image {
  return { width, height, channels: 3, data: bytes(height * width * 3, seed) };
}

/** The reference batch [B, 3, S, S], normalised, as one array. */
function stack(images: FloatImage[], mean: readonly number[], std: readonly number[]) {
  const out: number[] = [];
  for (const im of images) out.push(...normalize(im, mean, std).data);
  return out;
}

// Odd sizes, tall, wide and square: shrinking by up to ~7×, growing by up to ~5×.
const IMAGES = [rgb(37, 23, 1), rgb(11, 17, 2), rgb(5, 4, 3), rgb(61, 48, 4), rgb(13, 13, 5)];

gpuTest("eval batch = Resize(shorter side) + CenterCrop + normalise (reference)", async () => {
  for (const size of [13, 7]) {
    const got = await values(() => gpuEvalBatch(IMAGES, size, PLAIN.mean, PLAIN.std));
    const ref = stack(IMAGES.map((im) => evalTransform(im, size)), PLAIN.mean, PLAIN.std);
    assertClose(got, ref, { rtol: 0, atol: ATOL, what: `eval ${size}` });
  }
  const got = await values(() => gpuEvalBatch(IMAGES, 9, CLIP_MEAN, CLIP_STD));
  const ref = stack(IMAGES.map((im) => evalTransform(im, 9)), CLIP_MEAN, CLIP_STD);
  assertClose(got, ref, { rtol: 0, atol: ATOL / Math.min(...CLIP_STD), what: "eval CLIP" });
});

/** Which images of `batch` the stream flips (replaying trainTransform's draws). */
function flipsOf(batch: Image[], rng: Rng, opts: TrainTransformOptions): boolean[] {
  return batch.map((im) => {
    randomResizedCropParams(
      im.height,
      im.width,
      opts.scale ?? [0.5, 1],
      opts.ratio ?? [3 / 4, 4 / 3],
      rng,
    );
    return rng.uniform() < 0.5;
  });
}

gpuTest("train batch = trainTransform per image from the same generator state", async () => {
  const settings: TrainTransformOptions[] = [
    { size: 16 },
    { size: 19, scale: [0.08, 1], interpolation: "bicubic" },
    { size: 8, scale: [0.08, 1], ratio: [0.5, 2], interpolation: "bilinear" },
  ];
  const batch = [...IMAGES, ...IMAGES];
  for (const [k, opts] of settings.entries()) {
    const stream = () => Rng.fromSeed(40 + k).stream("augment");
    const flips = flipsOf(batch, stream(), opts);
    assert.ok(flips.includes(true) && flips.includes(false), "both flip outcomes drawn");
    const gpuRng = stream();
    const cpuRng = stream();
    const got = await values(() => gpuTrainBatch(batch, gpuRng, opts, IMAGENET_MEAN, IMAGENET_STD));
    const ref = stack(
      batch.map((im) => trainTransform(im, cpuRng, opts)),
      IMAGENET_MEAN,
      IMAGENET_STD,
    );
    const atol = ATOL / Math.min(...IMAGENET_STD);
    assertClose(got, ref, { rtol: 0, atol, what: JSON.stringify(opts) });
    assert.deepEqual(gpuRng.state(), cpuRng.state(), "the same draws, in the same order");
  }
});

gpuTest("torchvision: uint8 resize (bilinear, bicubic) and RandomResizedCrop boxes", async () => {
  // uint8 3×23×19 (CHW) → HWC; torchvision resized it in float32 and rounded to uint8.
  const t = fixture.uint8_input;
  const chw = decodeBase64(t.u8);
  const [, H, W] = t.shape;
  const hwc = new Uint8Array(chw.length);
  for (let c = 0; c < 3; c++) for (let p = 0; p < H * W; p++) hwc[3 * p + c] = chw[c * H * W + p];
  const img: Image = { width: W, height: H, channels: 3, data: hwc };
  const whole = { top: 0, left: 0, height: H, width: W };
  for (const c of fixture.resize_uint8) {
    const [, h, w] = c.output.shape;
    const got = await values(() =>
      gpuResizedCrop([img], [whole], [false], h, w, c.interpolation, PLAIN.mean, PLAIN.std)
    );
    const expected = Array.from(decodeBase64(c.output.u8), (v) => v / 255);
    assertClose(got, expected, { rtol: 0, atol: (0.5 + 1e-3) / 255, what: c.interpolation });
  }

  // RandomResizedCrop.get_params on scripted draws: the GPU batch crops torchvision's box.
  const groups = new Map<string, typeof fixture.rrc>();
  for (const c of fixture.rrc) {
    const key = `${c.height}x${c.width}:${c.scale}`;
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  for (const cases of groups.values()) {
    const { height, width, scale, ratio } = cases[0];
    const draws: number[] = cases.flatMap((c: { draws: number[] }, i: number) => [
      ...c.draws,
      i % 2 ? 0.25 : 0.75, // the flip coin
    ]);
    let next = 0;
    const scripted = {
      uniform: () => draws[next++],
      int: (n: number) => Math.floor(draws[next++] * n),
    };
    const images = cases.map((_: unknown, i: number) => rgb(height, width, 100 + i));
    const got = await values(() =>
      gpuTrainBatch(images, scripted, { size: 6, scale, ratio }, PLAIN.mean, PLAIN.std)
    );
    assert.equal(next, draws.length, "every scripted draw used");
    const ref = cases.map((c: { box: number[] }, i: number) => {
      const [top, left, h, w] = c.box;
      const x = resizedCrop(toFloatImage(images[i]), { top, left, height: h, width: w }, 6, 6, {
        interpolation: "bilinear",
        antialias: true,
      });
      return i % 2 ? horizontalFlip(x) : x;
    });
    assertClose(got, stack(ref, PLAIN.mean, PLAIN.std), {
      rtol: 0,
      atol: ATOL,
      what: `rrc ${height}×${width}`,
    });
  }
});

gpuTest("same seed, same batch; another seed, another batch", async () => {
  const run = (seed: number) =>
    values(() =>
      gpuTrainBatch(IMAGES, Rng.fromSeed(seed).stream("augment"), { size: 12, scale: [0.08, 1] })
    );
  const [a, b, c] = [await run(3), await run(3), await run(4)];
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

gpuTest("grey IDX batch (1 channel → RGB) and a packed RGB batch", async () => {
  const [n, h, w] = [5, 28, 28];
  const grey = bytes(n * h * w, 9);
  const images = Array.from(
    { length: n },
    (_, i) => greyToRgb(grey.subarray(i * h * w, (i + 1) * h * w), w, h),
  );
  const opts = { size: 32 };
  const cpuRng = Rng.fromSeed(1).stream("augment");
  const gpuRng = Rng.fromSeed(1).stream("augment");
  const got = await values(() => gpuTrainBatchUniform(grey, n, h, w, 1, gpuRng, opts));
  const ref = stack(
    images.map((im) => trainTransform(im, cpuRng, opts)),
    IMAGENET_MEAN,
    IMAGENET_STD,
  );
  const atol = ATOL / Math.min(...IMAGENET_STD);
  assertClose(got, ref, { rtol: 0, atol, what: "grey train" });
  assert.deepEqual(gpuRng.state(), cpuRng.state());

  const ev = await values(() => gpuEvalBatchUniform(grey, n, h, w, 1, 20));
  const evRef = stack(images.map((im) => evalTransform(im, 20)), IMAGENET_MEAN, IMAGENET_STD);
  assertClose(ev, evRef, { rtol: 0, atol, what: "grey eval" });

  const packed = new Uint8Array(images.flatMap((im) => [...im.data]));
  const same = await values(() => gpuEvalBatchUniform(packed, n, h, w, 3, 20));
  assert.deepEqual(same, ev, "RGB copies of the grey images give the same batch");
});

gpuTest("crop boxes reaching outside the image are zero-padded, as torchvision crop", async () => {
  const img = IMAGES[0];
  const boxes = [
    { top: -3, left: 5, height: 20, width: 30 },
    { top: 30, left: -10, height: 15, width: 12 },
  ];
  const got = await values(() =>
    gpuResizedCrop([img, img], boxes, [false, true], 9, 11, "bicubic", PLAIN.mean, PLAIN.std)
  );
  const opts = { interpolation: "bicubic" as Interpolation, antialias: true };
  const ref = [
    resizedCrop(toFloatImage(img), boxes[0], 9, 11, opts),
    horizontalFlip(resizedCrop(toFloatImage(img), boxes[1], 9, 11, opts)),
  ];
  assertClose(got, stack(ref, PLAIN.mean, PLAIN.std), { rtol: 0, atol: ATOL, what: "padded" });
});

gpuTest(
  "kernel = its float64 reference (odd byte offsets, grey, output from image `first`)",
  async () => {
    // Image 0: RGB 4×5 at byte 0 (pixels straddle words); image 1: grey 6×3 at byte 61.
    const pixels = bytes(61 + 18, 21);
    const [outH, outW, K] = [3, 2, 3];
    const images = Uint32Array.of(0, 15, 3, 0, 61, 3, 1, 0);
    // Rows of image 0, rows of image 1, columns of image 0, columns of image 1.
    const taps = Uint32Array.of(0, 2, 1, 3, 3, 1, 2, 2, 0, 1, 5, 1, 3, 2, 0, 0, 1, 2, 0, 3);
    const weights = Float32Array.from({ length: 10 * K }, (_, i) => ((i * 7) % 11) / 10 - 0.3);
    const t: ResizedCropTables = {
      batch: 2,
      outHeight: outH,
      outWidth: outW,
      images,
      taps,
      weights,
      maxTaps: K,
    };
    const mean = [0.1, -0.2, 0.3];
    const std = [0.5, 2, 0.25];
    const got = await values(() => {
      const out = tensor(new Float32Array(3 * 3 * outH * outW)); // slot 0 stays untouched
      const px = tensor(pixels, [pixels.length], "u8");
      engine().dispatch(resizedCropSpec, {
        buffers: {
          pixels: px.buffer,
          images: tensor(images, [8], "u32").buffer,
          taps: tensor(taps, [taps.length], "u32").buffer,
          weights: tensor(weights).buffer,
          out: out.buffer,
        },
        uniforms: {
          out_h: outH,
          out_w: outW,
          batch: 2,
          max_taps: K,
          col_base: 2 * outH,
          first: 1,
          _p0: 0,
          _p1: 0,
          mean: [...mean, 0],
          stdev: [...std, 1],
        },
        workgroups: [1, 1, 2],
      });
      return out;
    });
    const expected = [
      ...new Float64Array(3 * outH * outW),
      ...resizedCropReference(pixels, t, mean, std),
    ];
    assertClose(got, expected, { rtol: 1e-5, atol: 1e-5 });
  },
);

gpuTest("bad arguments are refused; no GPU memory is kept", async () => {
  const live = engine().pool.liveBytes;
  await values(() => gpuEvalBatch(IMAGES, 5));
  assert.equal(engine().pool.liveBytes, live);
  assert.throws(() => gpuEvalBatch(IMAGES, 5, [0, 0], [1, 1]), RangeError);
  assert.throws(() => gpuEvalBatch(IMAGES, 5, [0, 0, 0], [1, 0, 1]), RangeError);
  assert.throws(() => gpuEvalBatch(IMAGES, 0), RangeError);
  assert.throws(() => gpuEvalBatchUniform(new Uint8Array(8), 2, 2, 2, 2), RangeError);
  assert.throws(() => gpuEvalBatchUniform(new Uint8Array(7), 2, 2, 2, 1), RangeError);
  const broken: Image = { width: 3, height: 2, channels: 3, data: new Uint8Array(17) };
  assert.throws(() => gpuEvalBatch([broken], 4), RangeError);
  assert.equal(engine().pool.liveBytes, live);
});

Deno.test("batches too big for one storage binding are split into runs", () => {
  // Packed bytes in 16-byte granules: 100 + 100 → 208 fits 208; 3 images don't.
  assert.deepEqual(dispatchRuns([100, 100, 100, 7], 208), [[0, 2], [2, 4]]);
  assert.deepEqual(dispatchRuns([100, 100], 207), [[0, 1], [1, 2]]);
  assert.deepEqual(dispatchRuns([], 64), []);
  assert.deepEqual(dispatchRuns(new Array(70000).fill(1), 2 ** 30).map(([a, b]) => b - a), [
    65535,
    4465,
  ]);
  assert.throws(() => dispatchRuns([10, 300], 208), /image 1 \(300 bytes\)/);
  assert.deepEqual(dispatchRuns([208], 208), [[0, 1]]);
});
