// Decoding against PIL's pixels (fixtures/decode.json, from make_transform_fixtures.py).
// Tolerance: PNG exactly. JPEG: jpeg-js rounds its IDCT differently from libjpeg (4:4:4 and grey:
// max 3 levels, mean 1) and upsamples chroma by box replication where libjpeg interpolates, which
// on this 16×12 image of steep colour ramps costs up to 16 levels (mean 4.5) at 4:2:0.
import assert from "node:assert/strict";
import { decodeImage } from "../../../al/data/decode.ts";
import { InputError } from "../../../engine/errors.ts";
import { decodeBase64 } from "./base64.ts";
import { decodeFixture, JPEG, TRUNCATED_JPEG } from "./trees.ts";

Deno.test("JPEG (baseline, progressive, grey) and PNG (rgb, grey, 1-bit, palette, alpha, 16-bit)", () => {
  const seen: string[] = [];
  for (const f of decodeFixture.files) {
    const img = decodeImage(decodeBase64(f.bytes), f.name);
    const expected = decodeBase64(f.rgb);
    assert.equal(img.channels, 3);
    assert.deepEqual([img.width, img.height], [f.width, f.height], f.name);
    assert.equal(img.data.length, expected.length, f.name);
    let worst = 0;
    let sum = 0;
    for (let i = 0; i < expected.length; i++) {
      const d = Math.abs(img.data[i] - expected[i]);
      worst = Math.max(worst, d);
      sum += d;
    }
    const [limit, mean] = f.name.endsWith(".png")
      ? [0, 0]
      : f.name.includes("420")
      ? [16, 4.5]
      : [3, 1];
    assert.ok(worst <= limit, `${f.name}: max |diff| ${worst} > ${limit}`);
    assert.ok(sum / expected.length <= mean, `${f.name}: mean |diff| ${sum / expected.length}`);
    seen.push(f.name);
  }
  for (const name of ["progressive_444.jpg", "palette.png", "grey_alpha.png", "grey16.png"]) {
    assert.ok(seen.includes(name), `fixture lacks ${name}`);
  }
});

Deno.test("grey JPEG comes out as three equal channels", () => {
  const f = decodeFixture.files.find((f) => f.name === "grey.jpg")!;
  const img = decodeImage(decodeBase64(f.bytes), f.name);
  for (let p = 0; p < img.width * img.height; p++) {
    assert.equal(img.data[3 * p], img.data[3 * p + 1]);
    assert.equal(img.data[3 * p], img.data[3 * p + 2]);
  }
});

Deno.test("truncated JPEG, corrupt PNG and non-image bytes are InputErrors naming the file", () => {
  assert.throws(
    () => decodeImage(TRUNCATED_JPEG, "cut.jpg"),
    (e) => e instanceof InputError && /^cut\.jpg: corrupt JPEG/.test(e.message),
  );
  const png = decodeBase64(decodeFixture.files.find((f) => f.name === "rgb.png")!.bytes);
  assert.throws(
    () => decodeImage(png.subarray(0, 60), "cut.png"),
    (e) => e instanceof InputError && /^cut\.png: corrupt PNG/.test(e.message),
  );
  assert.throws(
    () => decodeImage(new TextEncoder().encode("hello"), "notes.jpg"),
    (e) => e instanceof InputError && e.message === "notes.jpg: not a JPEG or PNG image",
  );
  assert.doesNotThrow(() => decodeImage(JPEG, "whole.jpg"));
});
