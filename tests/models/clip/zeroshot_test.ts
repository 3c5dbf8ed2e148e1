import assert from "node:assert/strict";
import { assertClose, gpuTest, randomData } from "../../gpu.ts";
import { scope, tensor } from "../../../engine/tensor.ts";
import { CLIP } from "../../../models/clip/clip.ts";
import {
  classPrompts,
  classWeights,
  zeroShotLogits,
  zeroShotWeights,
} from "../../../models/clip/zeroshot.ts";
import { loadClipFixture } from "./clip_fixture.ts";

/** Float64 reference: rows [C·T, E] class-major → { raw, weights } as [E][C] arrays. */
function weightsReference(
  emb: ArrayLike<number>,
  classes: number,
  dim: number,
  normalizeEach: boolean,
) {
  const perClass = emb.length / dim / classes;
  const raw = Array.from({ length: dim }, () => new Float64Array(classes));
  for (let c = 0; c < classes; c++) {
    for (let t = 0; t < perClass; t++) {
      const row = Array.from({ length: dim }, (_, e) => emb[(c * perClass + t) * dim + e]);
      const norm = normalizeEach ? Math.hypot(...row) : 1;
      row.forEach((v, e) => (raw[e][c] += v / norm / perClass));
    }
  }
  const weights = raw.map((r) => Float64Array.from(r));
  for (let c = 0; c < classes; c++) {
    const norm = Math.hypot(...raw.map((r) => r[c]));
    weights.forEach((w) => (w[c] /= norm));
  }
  const flat = (m: Float64Array[]) => m.flatMap((r) => Array.from(r));
  return { raw: flat(raw), weights: flat(weights) };
}

Deno.test("classPrompts puts the class name, underscores as spaces, into each template", () => {
  assert.deepEqual(classPrompts("Forest_Loss", ["a photo of a {}.", "{} texture."]), [
    "a photo of a Forest Loss.",
    "Forest Loss texture.",
  ]);
});

gpuTest(
  "classWeights: column-normalised mean of the prompt embeddings (float64 reference)",
  async () => {
    const [classes, templates, dim] = [5, 3, 37];
    const emb = randomData(classes * templates * dim, 21, -2, 2);
    for (const normalizePrompts of [false, true]) {
      const want = weightsReference(emb, classes, dim, normalizePrompts);
      const { raw, weights } = scope(() =>
        classWeights(tensor(emb, [classes * templates, dim]), classes, { normalizePrompts })
      );
      assert.deepEqual(weights.shape, [dim, classes]);
      // Float32 sums of three ~1-magnitude terms and one norm: a few ulp.
      assertClose(await raw.read(), want.raw, { rtol: 1e-5, atol: 1e-6, what: "raw" });
      assertClose(await weights.read(), want.weights, { rtol: 1e-5, atol: 1e-6, what: "weights" });
      raw.dispose();
      weights.dispose();
    }
  },
);

gpuTest("zeroShotLogits = 100 · normalise(f) · W (float64 reference)", async () => {
  const [b, dim, classes] = [3, 37, 5];
  const f = randomData(b * dim, 5, -1, 1);
  const w = randomData(dim * classes, 6, -1, 1);
  const want: number[] = [];
  for (let i = 0; i < b; i++) {
    const row = f.subarray(i * dim, (i + 1) * dim);
    const norm = Math.hypot(...row);
    for (let c = 0; c < classes; c++) {
      let s = 0;
      for (let e = 0; e < dim; e++) s += (row[e] / norm) * w[e * classes + c];
      want.push(100 * s);
    }
  }
  const got = scope(() => zeroShotLogits(tensor(f, [b, dim]), tensor(w, [dim, classes])));
  assertClose(await got.read(), want, { rtol: 1e-5, atol: 1e-4, what: "logits" });
  got.dispose();
});

gpuTest("zeroShotWeights encodes class names × templates through CLIP's text tower", async () => {
  const fx = await loadClipFixture("clip_vit");
  const model = CLIP.fromStateDict(fx.model);
  const rows = fx.io.get("text")!.data as Int32Array;
  // A stand-in tokenizer mapping the four prompts onto the fixture's four text rows.
  const prompts = ["a cat.", "the cat", "a dog.", "the dog"];
  const tokenizer = {
    tokenize(texts: string[], ctx: number) {
      assert.equal(ctx, 77);
      const out = new Int32Array(texts.length * ctx);
      texts.forEach((t, i) =>
        out.set(rows.subarray(prompts.indexOf(t) * 77, prompts.indexOf(t) * 77 + 77), i * ctx)
      );
      return out;
    },
  };
  const { raw, weights } = zeroShotWeights(model, tokenizer, ["cat", "dog"], ["a {}.", "the {}"]);
  // Expected from the fixture's PyTorch text features, in float64.
  const want = weightsReference(fx.io.get("text_features")!.data, 2, 32, false);
  assertClose(await raw.read(), want.raw, { rtol: 1e-4, atol: fx.atol.text_features });
  assertClose(await weights.read(), want.weights, { rtol: 1e-4, atol: 1e-5 });
  raw.dispose();
  weights.dispose();
  model.dispose();
});
