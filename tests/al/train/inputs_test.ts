// ImageInputs: fetching ahead keeps a seed's pixels (crops drawn in index order, whatever order
// the fetches finish in), and a failed fetch fails the batch with its own error. Values are
// compared with the float64 reference composition within resample_test.ts's TOL (2e-6).
import assert from "node:assert/strict";
import { ImageInputs } from "../../../al/train/inputs.ts";
import {
  evalTransformReference,
  normalize,
  trainTransformReference,
} from "../../../al/data/transforms.ts";
import { IMAGENET_MEAN, IMAGENET_STD } from "../../../al/data/normalization.ts";
import type { Image, ImageSet } from "../../../al/data/image.ts";
import { Rng } from "../../../engine/rng.ts";

const TOL = 2e-6;

function images(n: number): Image[] {
  const rng = Rng.fromSeed(5);
  return Array.from({ length: n }, (_, i) => {
    const [width, height] = [11 + 3 * i, 17 - i];
    const data = new Uint8Array(width * height * 3).map(() => rng.int(256));
    return { width, height, channels: 3 as const, data };
  });
}

/** A set whose fetches finish out of order (later indices often first). */
function slowSet(imgs: Image[], fail?: number): ImageSet {
  return {
    length: imgs.length,
    labels: new Int32Array(imgs.length),
    get: async (i) => {
      await new Promise((r) => setTimeout(r, (7 * i) % 5));
      if (i === fail) throw new Error(`image ${i} is broken`);
      return imgs[i];
    },
    source: (i) => `img${i}`,
  };
}

Deno.test("trainBatch/evalBatch: the reference's pixels in index order, fetched ahead", async () => {
  const imgs = images(9);
  const set = slowSet(imgs);
  const inputs = new ImageInputs({ train: set, test: set }, { size: 6 });
  const indices = [4, 0, 8, 8, 3, 1, 7, 2, 6, 5];
  const got = await inputs.trainBatch(indices, Rng.fromSeed(1).stream("augment"));
  const again = await inputs.trainBatch(indices, Rng.fromSeed(1).stream("augment"));
  assert.deepEqual(again, got, "same seed, same pixels");
  const rng = Rng.fromSeed(1).stream("augment");
  const len = inputs.imageLength;
  for (const [k, i] of indices.entries()) {
    const ref = normalize(
      trainTransformReference(imgs[i], rng, { size: 6 }),
      IMAGENET_MEAN,
      IMAGENET_STD,
    );
    const d = ref.data.reduce((m, v, j) => Math.max(m, Math.abs(v - got[k * len + j])), 0);
    assert.ok(d <= TOL, `image ${k}: ${d}`);
  }
  for (const pass of [0, 1]) { // second pass: from the cache
    const ev = await inputs.evalBatch("test", indices);
    for (const [k, i] of indices.entries()) {
      const ref = normalize(evalTransformReference(imgs[i], 6), IMAGENET_MEAN, IMAGENET_STD);
      const d = ref.data.reduce((m, v, j) => Math.max(m, Math.abs(v - ev[k * len + j])), 0);
      assert.ok(d <= TOL, `pass ${pass}, eval image ${k}: ${d}`);
    }
  }
});

Deno.test("a fetch that fails fails the batch with its error, even when fetched ahead", async () => {
  const set = slowSet(images(9), 6);
  const inputs = new ImageInputs({ train: set, test: set }, { size: 4 });
  const rng = Rng.fromSeed(2).stream("augment");
  await assert.rejects(inputs.trainBatch([0, 1, 6, 2, 3, 4], rng), /image 6 is broken/);
  await assert.rejects(inputs.evalBatch("test", [5, 6]), /image 6 is broken/);
  // Started ahead and then left: its failure must not surface later as an unhandled rejection.
  await assert.rejects(inputs.trainBatch([6, 0, 1, 2, 3, 4, 5], rng), /image 6 is broken/);
  await new Promise((r) => setTimeout(r, 20));
});
