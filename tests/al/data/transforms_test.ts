// Reference transforms against torchvision 0.14 (fixture: make_transform_fixtures.py).
// Tolerance: float64 tensors (stored exactly) |a - e| <= 1e-12, the summation order being the
// only difference; integer outputs (sizes, boxes) exactly; the uint8 path within 1 level
// (torchvision computes it in float32) with at most 1% of values off by one.
import assert from "node:assert/strict";
import {
  centerCrop,
  evalTransformReference,
  type FloatImage,
  horizontalFlip,
  type Interpolation,
  normalize,
  randomResizedCropParams,
  resize,
  resizedCrop,
  resizeImage,
  roundHalfEven,
  shorterSideSize,
  toFloatImage,
  toImage,
  trainTransformReference,
} from "../../../al/data/transforms.ts";
import {
  CLIP_MEAN,
  CLIP_STD,
  IMAGENET_MEAN,
  IMAGENET_STD,
} from "../../../al/data/normalization.ts";
import type { Image } from "../../../al/data/image.ts";

import { decodeBase64 } from "./base64.ts";

interface Stored {
  shape: number[];
  f64?: string;
  u8?: string;
}
interface Tensor {
  shape: number[];
  data: Float64Array | Uint8Array;
}
const tensor = (t: Stored): Tensor => {
  const bytes = decodeBase64(t.f64 ?? t.u8!);
  return { shape: t.shape, data: t.f64 ? new Float64Array(bytes.buffer) : bytes };
};
const fixture = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/transforms.json", import.meta.url)),
);

const chw = (t: Tensor): FloatImage => ({
  channels: t.shape[0],
  height: t.shape[1],
  width: t.shape[2],
  data: Float64Array.from(t.data),
});
const input = chw(tensor(fixture.input));

function assertClose(actual: FloatImage, stored: Stored, what: string, atol = 1e-12) {
  const expected = tensor(stored);
  assert.deepEqual([actual.channels, actual.height, actual.width], expected.shape, what);
  let worst = 0;
  for (let i = 0; i < expected.data.length; i++) {
    worst = Math.max(worst, Math.abs(actual.data[i] - expected.data[i]));
  }
  assert.ok(worst <= atol, `${what}: max |diff| ${worst} > ${atol}`);
}

Deno.test("resize matches torchvision (bilinear/bicubic, antialias on/off, down/up/mixed)", () => {
  assert.equal(fixture.resize.length, 16);
  for (const c of fixture.resize) {
    const [, h, w] = c.output.shape;
    const opts = { interpolation: c.interpolation as Interpolation, antialias: c.antialias };
    assertClose(resize(input, h, w, opts), c.output, `${JSON.stringify(opts)} → ${h}×${w}`);
  }
});

Deno.test("antialias matters when shrinking (the test can tell the two paths apart)", () => {
  const aa = resize(input, 4, 5, { interpolation: "bilinear", antialias: true });
  const plain = resize(input, 4, 5, { interpolation: "bilinear", antialias: false });
  const diff = aa.data.reduce((m, v, i) => Math.max(m, Math.abs(v - plain.data[i])), 0);
  assert.ok(diff > 1e-3, `antialias changed nothing (max diff ${diff})`);
});

Deno.test("uint8 resize rounds like torchvision", () => {
  const t = tensor(fixture.uint8_input);
  const hwc = new Uint8Array(t.data.length);
  const [, H, W] = t.shape;
  for (let c = 0; c < 3; c++) {
    for (let p = 0; p < H * W; p++) hwc[3 * p + c] = t.data[c * H * W + p];
  }
  const img: Image = { width: W, height: H, channels: 3, data: hwc };
  for (const c of fixture.resize_uint8) {
    const expected = tensor(c.output);
    const [, h, w] = expected.shape;
    const out = resizeImage(img, h, w, { interpolation: c.interpolation, antialias: true });
    let offByOne = 0;
    for (let ch = 0; ch < 3; ch++) {
      for (let p = 0; p < h * w; p++) {
        const d = Math.abs(out.data[3 * p + ch] - expected.data[ch * h * w + p]);
        assert.ok(d <= 1, `${c.interpolation}: value off by ${d}`);
        offByOne += d;
      }
    }
    assert.ok(offByOne <= 0.01 * 3 * h * w, `${c.interpolation}: ${offByOne} values off by one`);
  }
});

Deno.test("shorter-side Resize(size) output sizes", () => {
  for (const c of fixture.shorter_side) {
    assert.deepEqual(shorterSideSize(c.height, c.width, c.size), c.output);
  }
});

Deno.test("center crop, including odd offsets and zero padding", () => {
  for (const c of fixture.center_crop) {
    assertClose(centerCrop(input, c.size[0], c.size[1]), c.output, `center crop ${c.size}`);
  }
});

Deno.test("resized crop, flip, normalise", () => {
  const rc = fixture.resized_crop;
  const [top, left, height, width] = rc.box;
  const out = resizedCrop(input, { top, left, height, width }, rc.size[0], rc.size[1], {
    interpolation: "bilinear",
    antialias: true,
  });
  assertClose(out, rc.output, "resized_crop");
  assertClose(horizontalFlip(input), fixture.hflip, "hflip");
  assertClose(normalize(input, CLIP_MEAN, CLIP_STD), fixture.normalize_clip, "normalize");
});

Deno.test("RandomResizedCrop.get_params replays torchvision's draws", () => {
  let fallbacks = 0;
  for (const c of fixture.rrc) {
    let next = 0;
    const rng = {
      uniform: () => c.draws[next++],
      int: (n: number) => Math.floor(c.draws[next++] * n),
    };
    const box = randomResizedCropParams(c.height, c.width, c.scale, c.ratio, rng);
    assert.deepEqual([box.top, box.left, box.height, box.width], c.box, JSON.stringify(c));
    assert.equal(next, c.draws.length, "same number of draws");
    if (c.draws.length === 20) fallbacks++;
  }
  assert.equal(fallbacks, 12, "the fixture exercises all three fallbacks");
});

Deno.test("constants are docs/method.md's", () => {
  assert.deepEqual(IMAGENET_MEAN, [0.485, 0.456, 0.406]);
  assert.deepEqual(IMAGENET_STD, [0.229, 0.224, 0.225]);
  assert.deepEqual(CLIP_MEAN, [0.48145466, 0.4578275, 0.40821073]);
  assert.deepEqual(CLIP_STD, [0.26862954, 0.26130258, 0.27577711]);
});

Deno.test("uint8 <-> float round trip; halves round to even", () => {
  const img: Image = {
    width: 2,
    height: 1,
    channels: 3,
    data: Uint8Array.of(0, 1, 2, 253, 254, 255),
  };
  assert.deepEqual(toImage(toFloatImage(img, 1)), img);
  assert.deepEqual([0.5, 1.5, 2.5, -0.5, 3.2].map(roundHalfEven), [0, 2, 2, -0, 3]);
});

Deno.test("eval and train compositions (docs/method.md §1 inputs)", () => {
  const data = new Uint8Array(30 * 40 * 3).map((_, i) => (i * 37) % 251);
  const img: Image = { width: 40, height: 30, channels: 3, data };
  const ev = evalTransformReference(img, 24);
  const manual = centerCrop(
    resize(toFloatImage(img), 24, 32, { interpolation: "bilinear", antialias: true }),
    24,
    24,
  );
  assert.deepEqual(ev, manual);
  // Scripted draws: area 0.5 + 0.5 u, log-ratio, top, left, then the flip coin.
  const draws = (flip: number) => {
    const seq = [0.5, 0.5, 0.25, 0.75, flip];
    return { uniform: () => seq.shift()!, int: (n: number) => Math.floor(seq.shift()! * n) };
  };
  const kept = trainTransformReference(img, draws(0.7), { size: 16 });
  const flipped = trainTransformReference(img, draws(0.2), { size: 16 });
  assert.deepEqual(flipped, horizontalFlip(kept));
  // area 0.75 · 1200 = 900 at ratio 1 → a 30×30 box; top ⌊0.25 · 1⌋ = 0, left ⌊0.75 · 11⌋ = 8.
  const box = { top: 0, left: 8, height: 30, width: 30 };
  const expected = resizedCrop(toFloatImage(img), box, 16, 16, {
    interpolation: "bilinear",
    antialias: true,
  });
  assert.deepEqual(kept, expected);
});
