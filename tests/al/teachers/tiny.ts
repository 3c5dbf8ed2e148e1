/** Tiny in-memory image sets and experiment data for teacher tests. */
import type { Image, ImageSet } from "../../../al/data/image.ts";
import type { ExperimentData } from "../../../al/ports.ts";
import { fileHash } from "../../../al/teachers/cache.ts";
import { CLIP } from "../../../models/clip/clip.ts";
import { loadClipFixture } from "../../models/clip/clip_fixture.ts";

/** n images of 12×10 pixels whose brightness encodes the label (so a teacher can be right). */
export function tinySet(n: number, classes: number, salt = 0): ImageSet {
  const labels = Int32Array.from({ length: n }, (_, i) => (i * 5 + salt) % classes);
  const images: Image[] = Array.from({ length: n }, (_, i) => {
    const data = new Uint8Array(12 * 10 * 3);
    for (let p = 0; p < data.length; p++) {
      data[p] = (labels[i] * 60 + ((p * 31 + i * 7) % 23)) % 256;
    }
    return { width: 10, height: 12, channels: 3, data };
  });
  return {
    length: n,
    labels,
    get: (i) => images[i],
    source: (i) => `tiny#${i}`,
  };
}

export function tinyData(train: ImageSet, test: ImageSet, classes: number): ExperimentData {
  return {
    dataset: "tiny",
    classes: Array.from({ length: classes }, (_, c) => `class ${c}`),
    trainLabels: train.labels,
    train: Int32Array.from({ length: train.length }, (_, i) => i).filter((i) => i % 4 !== 3),
    test: Int32Array.from({ length: test.length }, (_, i) => i),
    testLabels: test.labels,
    heldOut: 0,
  };
}

export { withTempDir } from "../../temp_dir.ts";

/** Prompt c of `classes` → the tiny CLIP fixture's text row c (its vocabulary has 800 ids). */
export async function fixtureTokenizer(classes: readonly string[]) {
  const text = (await loadClipFixture("clip_rn")).io.get("text")!.data as Int32Array;
  return {
    tokenize(prompts: readonly string[], ctx = 77): Int32Array {
      const out = new Int32Array(prompts.length * ctx);
      prompts.forEach((p, k) => {
        const row = classes.indexOf(p);
        out.set(text.subarray(row * ctx, (row + 1) * ctx), k * ctx);
      });
      return out;
    },
  };
}

/** The tiny CLIP fixture (clip_rn) as a teacher's model, prompts for `classes`; its file hash. */
export async function tinyClipModel(classes: readonly string[]) {
  const fx = await loadClipFixture("clip_rn");
  const clipHash = await fileHash(fx.modelPath);
  const model = async () => ({
    clip: await CLIP.fromStateDict(fx.model, "clip_rn"),
    tokenizer: await fixtureTokenizer(classes),
    weightsKey: clipHash,
    name: "clip_rn",
  });
  return { model, clipHash };
}
