// Decoding against PIL's pixels (fixtures/decode.json, from make_transform_fixtures.py), for the
// decoder in use (sharp: libvips with libjpeg-turbo and libspng) and the JavaScript fallback.
// Tolerances, measured here:
// - sharp: every fixture exactly (JPEG: the same libjpeg-turbo IDCT and chroma upsampling as
//   PIL's; PNG: lossless; 16-bit PNGs go to fast-png, whose 16 → 8-bit rounding is PIL's).
// - fallback: PNG exactly. JPEG: jpeg-js rounds its IDCT differently from libjpeg (4:4:4 and
//   grey: max 3 levels, mean 1) and upsamples chroma by box replication where libjpeg
//   interpolates, which on this 16×12 image of steep colour ramps costs up to 16 levels (mean
//   4.5) at 4:2:0.
import assert from "node:assert/strict";
import jpeg from "jpeg-js";
import { decodeImage, decodeImageJs, imageDecoder } from "../../../al/data/decode.ts";
import type { Image } from "../../../al/data/image.ts";
import { InputError } from "../../../engine/errors.ts";
import { decodeBase64 } from "./base64.ts";
import { decodeFixture, JPEG, TRUNCATED_JPEG } from "./trees.ts";

/** Max and mean |a - b| over the samples. */
function diff(a: Uint8Array, b: Uint8Array): { max: number; mean: number } {
  assert.equal(a.length, b.length);
  let max = 0, sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    max = Math.max(max, d);
    sum += d;
  }
  return { max, mean: sum / a.length };
}

const decoders: [string, (bytes: Uint8Array, file: string) => Promise<Image> | Image][] = [
  ["sharp", decodeImage],
  ["fallback", decodeImageJs],
];

Deno.test("the decoder in use is sharp (its npm package ships libvips for this platform)", async () => {
  assert.match(await imageDecoder(), /^sharp \d+\.\d+\.\d+ \(libvips \d+\.\d+\.\d+\)$/);
});

for (const [which, decode] of decoders) {
  Deno.test(`${which}: JPEG (baseline, progressive, grey) and PNG (rgb, grey, 1-bit, palette, alpha, 16-bit) against PIL`, async () => {
    const seen: string[] = [];
    for (const f of decodeFixture.files) {
      const img = await decode(decodeBase64(f.bytes), f.name);
      const expected = decodeBase64(f.rgb);
      assert.equal(img.channels, 3);
      assert.deepEqual([img.width, img.height], [f.width, f.height], f.name);
      const { max, mean } = diff(img.data, expected);
      const [limit, meanLimit] = which === "sharp" || f.name.endsWith(".png")
        ? [0, 0]
        : f.name.includes("420")
        ? [16, 4.5]
        : [3, 1];
      assert.ok(max <= limit, `${f.name}: max |diff| ${max} > ${limit}`);
      assert.ok(mean <= meanLimit, `${f.name}: mean |diff| ${mean}`);
      seen.push(f.name);
    }
    for (const name of ["progressive_420.jpg", "palette.png", "grey_alpha.png", "grey16.png"]) {
      assert.ok(seen.includes(name), `fixture lacks ${name}`);
    }
  });

  Deno.test(`${which}: grey JPEG comes out as three equal channels`, async () => {
    const f = decodeFixture.files.find((f) => f.name === "grey.jpg")!;
    const img = await decode(decodeBase64(f.bytes), f.name);
    for (let p = 0; p < img.width * img.height; p++) {
      assert.equal(img.data[3 * p], img.data[3 * p + 1]);
      assert.equal(img.data[3 * p], img.data[3 * p + 2]);
    }
  });

  Deno.test(`${which}: truncated JPEG, corrupt PNG and non-image bytes are one-line InputErrors naming the file`, async () => {
    const refuses = (bytes: Uint8Array, file: string, pattern: RegExp) =>
      assert.rejects(
        async () => await decode(bytes, file),
        (e) => e instanceof InputError && pattern.test(e.message) && !e.message.includes("\n"),
      );
    await refuses(TRUNCATED_JPEG, "cut.jpg", /^cut\.jpg: corrupt JPEG \(.+\)$/);
    const png = decodeBase64(decodeFixture.files.find((f) => f.name === "rgb.png")!.bytes);
    await refuses(png.subarray(0, 60), "cut.png", /^cut\.png: corrupt PNG \(.+\)$/);
    await refuses(
      new TextEncoder().encode("hello"),
      "notes.jpg",
      /^notes\.jpg: not a JPEG or PNG image$/,
    );
    await decode(JPEG, "whole.jpg");
  });
}

Deno.test("sharp and jpeg-js agree on the bench's 500x375 JPEG within IDCT rounding", async () => {
  // The image bench/data.ts decodes (jpeg-js encoder, quality 90). Measured: max 3 levels,
  // mean 0.53. On the 4:2:0 fixture they differ by up to 14 (jpeg-js's box chroma
  // upsampling; sharp matches PIL exactly there, see above).
  const [w, h] = [500, 375];
  const rgba = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = 4 * (y * w + x);
      rgba.set([(x * 255) / w, (y * 255) / h, (x ^ y) & 0xff, 255], i);
    }
  }
  const bytes = new Uint8Array(jpeg.encode({ data: rgba, width: w, height: h }, 90).data);
  const { max, mean } = diff(
    (await decodeImage(bytes, "b.jpg")).data,
    decodeImageJs(bytes, "b.jpg").data,
  );
  assert.ok(max <= 3 && mean <= 0.6, `max ${max}, mean ${mean}`);
});
