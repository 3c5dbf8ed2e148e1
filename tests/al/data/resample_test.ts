// The fast float32 transforms (al/data/resample.ts) against the float64 references
// (al/data/transforms.ts, themselves tested against torchvision) on odd shapes, and against the
// torchvision uint8 resize fixture.
// Tolerance, on normalised values: TOL = 2e-6, float32 rounding only. The intermediate rows
// (0..255) and the weights are float32 (relative error 2^-24 each), and each pass's weights sum
// in absolute value to at most 1.3 (bicubic's negative lobes; 1 for bilinear): at most
// 255 · 1.3² · 3 · 2^-24 ≈ 7.7e-5 levels, i.e. 1.35e-6 after dividing by 255 · std (std ≥
// 0.224), plus the float32 output's half ulp (1.2e-7 below 4).
import assert from "node:assert/strict";
import {
  evalTransformReference,
  type FloatImage,
  normalize,
  resizeTaps,
  roundHalfEven,
  type TrainTransformOptions,
  trainTransformReference,
} from "../../../al/data/transforms.ts";
import {
  evalTransformInto,
  resampleInto,
  sliceTaps,
  tapTable,
  trainTransformInto,
} from "../../../al/data/resample.ts";
import { IMAGENET_MEAN, IMAGENET_STD } from "../../../al/data/normalization.ts";
import type { Image } from "../../../al/data/image.ts";
import { Rng } from "../../../engine/rng.ts";
import { decodeBase64 } from "./base64.ts";

const TOL = 2e-6;
const NORM = { mean: IMAGENET_MEAN, std: IMAGENET_STD };
/** Width × height, from 1×1 up; odd and prime sides, both orientations. */
const SHAPES: [number, number][] = [[1, 1], [3, 7], [13, 5], [37, 23], [64, 48], [101, 77]];

function randomImage(width: number, height: number, seed: number): Image {
  const rng = Rng.fromSeed(seed);
  const data = new Uint8Array(width * height * 3).map(() => rng.int(256));
  return { width, height, channels: 3, data };
}

function maxDiff(fast: Float32Array, ref: FloatImage): number {
  assert.equal(fast.length, ref.data.length);
  let worst = 0;
  for (let i = 0; i < fast.length; i++) worst = Math.max(worst, Math.abs(fast[i] - ref.data[i]));
  return worst;
}

Deno.test("trainTransformInto matches the float64 reference: same draws, within TOL", () => {
  const options: TrainTransformOptions[] = [
    { interpolation: "bilinear" },
    { interpolation: "bicubic", scale: [0.08, 1] },
    { interpolation: "bilinear", scale: [0.9, 1], ratio: [0.5, 2] },
  ];
  let worst = 0;
  let cases = 0;
  for (const [k, [w, h]] of SHAPES.entries()) {
    const img = randomImage(w, h, k);
    for (const size of [1, 5, 16, 33]) {
      for (const opts of options) {
        const o = { ...opts, size };
        const refRng = Rng.fromSeed(100 + k).stream("augment");
        const fastRng = Rng.fromSeed(100 + k).stream("augment");
        for (let draw = 0; draw < 4; draw++) {
          const ref = normalize(trainTransformReference(img, refRng, o), NORM.mean, NORM.std);
          // An offset into a larger batch, as ImageInputs writes it; the rest stays untouched.
          const out = new Float32Array(3 * size * size + 7).fill(NaN);
          trainTransformInto(img, fastRng, o, NORM, out, 7);
          assert.deepEqual(fastRng.state(), refRng.state(), "same draws");
          assert.ok(out.subarray(0, 7).every(Number.isNaN), "wrote before its offset");
          const d = maxDiff(out.subarray(7), ref);
          assert.ok(d <= TOL, `${w}×${h} → ${size} ${JSON.stringify(opts)}: ${d} > ${TOL}`);
          worst = Math.max(worst, d);
          cases++;
        }
      }
    }
  }
  assert.equal(cases, 6 * 4 * 3 * 4);
  console.log(`max |fast - reference| over ${cases} crops: ${worst.toExponential(2)}`);
});

Deno.test("evalTransformInto matches the float64 reference within TOL", () => {
  for (const [k, [w, h]] of SHAPES.entries()) {
    const img = randomImage(w, h, 10 + k);
    for (const size of [1, 4, 24, 31]) {
      const ref = normalize(evalTransformReference(img, size), NORM.mean, NORM.std);
      const out = new Float32Array(3 * size * size);
      evalTransformInto(img, size, NORM, out, 0);
      const d = maxDiff(out, ref);
      assert.ok(d <= TOL, `${w}×${h} → ${size}: ${d} > ${TOL}`);
    }
  }
});

Deno.test("the comparison can fail: a flip the reference did not draw is far outside TOL", () => {
  // Scripted draws: area 0.75 · 3072 at ratio 1 (a 48×48 box), top, left, then the flip coin.
  const img = randomImage(64, 48, 3);
  const draws = (flip: number) => {
    const seq = [0.5, 0.5, 0.25, 0.75, flip];
    return { uniform: () => seq.shift()!, int: (n: number) => Math.floor(seq.shift()! * n) };
  };
  const ref = normalize(trainTransformReference(img, draws(0.9), { size: 9 }), NORM.mean, NORM.std);
  const same = new Float32Array(3 * 9 * 9);
  trainTransformInto(img, draws(0.9), { size: 9 }, NORM, same, 0);
  assert.ok(maxDiff(same, ref) <= TOL);
  const flipped = new Float32Array(3 * 9 * 9);
  trainTransformInto(img, draws(0.2), { size: 9 }, NORM, flipped, 0);
  assert.ok(maxDiff(flipped, ref) > 0.1, "a flip went unnoticed");
});

Deno.test("resampleInto agrees with torchvision's uint8 resize fixture (antialias)", async () => {
  const fixture = JSON.parse(
    await Deno.readTextFile(new URL("./fixtures/transforms.json", import.meta.url)),
  );
  const input = decodeBase64(fixture.uint8_input.u8);
  const [, H, W] = fixture.uint8_input.shape;
  const hwc = new Uint8Array(input.length);
  for (let c = 0; c < 3; c++) for (let p = 0; p < H * W; p++) hwc[3 * p + c] = input[c * H * W + p];
  const img: Image = { width: W, height: H, channels: 3, data: hwc };
  // mean 0, std 1/255: the output stays in levels.
  const levels = { mean: [0, 0, 0], std: [1 / 255, 1 / 255, 1 / 255] };
  assert.equal(fixture.resize_uint8.length, 2);
  for (const c of fixture.resize_uint8) {
    const expected = decodeBase64(c.output.u8);
    const [, h, w] = c.output.shape;
    const resize = { interpolation: c.interpolation, antialias: true };
    const out = new Float32Array(3 * h * w);
    resampleInto(img, 0, 0, tapTable(H, h, resize), tapTable(W, w, resize), false, levels, out, 0);
    // The reference test's rule (torchvision computes the uint8 path in float32): within one
    // level, at most 1% of values off by one.
    let offByOne = 0;
    for (let i = 0; i < out.length; i++) {
      const d = Math.abs(Math.min(255, Math.max(0, roundHalfEven(out[i]))) - expected[i]);
      assert.ok(d <= 1, `${c.interpolation}: value off by ${d}`);
      offByOne += d;
    }
    assert.ok(offByOne <= 0.01 * out.length, `${c.interpolation}: ${offByOne} values off by one`);
  }
});

Deno.test("tap tables: the reference's taps in float32, zero tails trimmed, built once", () => {
  for (const [inSize, outSize] of [[1, 5], [7, 3], [330, 224], [224, 330], [17, 17]]) {
    for (const interpolation of ["bilinear", "bicubic"] as const) {
      for (const antialias of [true, false]) {
        const opts = { interpolation, antialias };
        const ref = resizeTaps(inSize, outSize, opts);
        const t = tapTable(inSize, outSize, opts);
        assert.equal(tapTable(inSize, outSize, opts), t, "cached");
        assert.equal(t.size, outSize);
        assert.ok(t.stride <= ref.stride);
        for (let i = 0; i < outSize; i++) {
          for (let k = 0; k < ref.stride; k++) {
            const r = ref.weight[i * ref.stride + k];
            if (k >= t.stride) {
              assert.equal(r, 0, "trimmed a nonzero tap");
              continue;
            }
            assert.equal(t.index[i * t.stride + k], ref.index[i * ref.stride + k]);
            assert.equal(t.weight[i * t.stride + k], Math.fround(r));
          }
        }
      }
    }
  }
});

Deno.test("a region outside the image or an output overrun is a RangeError", () => {
  const img = randomImage(13, 5, 1);
  const resize = { interpolation: "bilinear", antialias: true } as const;
  const out = new Float32Array(3 * 4 * 4);
  const rows = tapTable(5, 4, resize);
  const cols = tapTable(10, 4, resize);
  assert.throws(() => resampleInto(img, 0, 4, rows, cols, false, NORM, out, 0), RangeError);
  assert.throws(() => resampleInto(img, 1, 0, rows, cols, false, NORM, out, 0), RangeError);
  assert.throws(() => resampleInto(img, 0, 0, rows, cols, false, NORM, out, 1), RangeError);
  resampleInto(img, 0, 3, rows, cols, false, NORM, out, 0);
  assert.throws(() => sliceTaps(rows, 2, 3), RangeError);
});
