/**
 * CLIP teachers on the tiny CLIP fixture (case A, clip_rn): zero-shot logits against the
 * reference's logits_per_image, CLAP's probe starting from (and, without steps, equal to) the
 * zero-shot head, reproducible fits, the official one-round lag, and `--clip` folder checks.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { CLIP } from "../../../models/clip/clip.ts";
import {
  clipInput,
  ClipZeroShot,
  datasetClassWeights,
  findClipFiles,
} from "../../../al/teachers/clip_zeroshot.ts";
import { clapTeacher } from "../../../al/teachers/clap.ts";
import { LogitsCache } from "../../../al/teachers/cache.ts";
import { modelTeacher } from "../../../al/teachers/model_teacher.ts";
import { silentProgress } from "../../../al/progress.ts";
import { InputError } from "../../../engine/errors.ts";
import { engine } from "../../../engine/context.ts";
import { Rng } from "../../../engine/rng.ts";
import { scopeAsync, tensor } from "../../../engine/tensor.ts";
import { assertClose, gpuTest } from "../../gpu.ts";
import { loadClipFixture } from "../../models/clip/clip_fixture.ts";
import { fixtureTokenizer, tinyData, tinySet, withTempDir } from "./tiny.ts";

const CLASSES = ["a", "b", "c"];
const DS = { classes: CLASSES, template: "{}" };

async function loadClip(): Promise<CLIP> {
  return CLIP.fromStateDict((await loadClipFixture("clip_rn")).model, "clip_rn");
}

gpuTest("clip-zeroshot: 100 · f̂ᵀW matches the reference's cosine logits", async () => {
  const fx = await loadClipFixture("clip_rn");
  const clip = await loadClip();
  const zs = new ClipZeroShot(clip, datasetClassWeights(clip, await fixtureTokenizer(CLASSES), DS));
  const image = fx.io.get("image")!;
  const logits = await scopeAsync(async () =>
    await zs.logits(tensor(image.data, image.shape)).read()
  );
  const scale = Math.exp((fx.model.get("logit_scale")!.data as Float32Array)[0]);
  const expected = Array.from(fx.io.get("logits_per_image")!.data, (v) => (100 * v) / scale);
  assertClose(logits, expected, { rtol: 1e-3, atol: 1e-3, what: "zero-shot logits" });
  zs.dispose();
}, { oneBackend: true });

gpuTest("clap: starts from the zero-shot head; fits are reproducible; the lag", async () => {
  await withTempDir(async (dir) => {
    const live = engine().pool.liveBytes;
    const train = tinySet(24, 3);
    const test = tinySet(9, 3, 1);
    const data = tinyData(train, test, 3);
    const sets = { train, test };
    const cache = new LogitsCache(join(dir, "cache"));
    const tokenizer = await fixtureTokenizer(CLASSES);
    const clap = async (epochs: number, lag = false) =>
      await clapTeacher({
        model: { clip: await loadClip(), tokenizer, weightsKey: "clip_rn", name: "clip_rn" },
        ds: DS,
        data,
        sets,
        lag,
        cache,
        settings: { lr: 0.01, momentum: 0.9, warmup: 0.1, epochs, batch: 8 },
      });
    const labeled = Int32Array.of(0, 1, 2);
    const more = Int32Array.of(0, 1, 2, 4, 5);
    const rng = () => Rng.fromSeed(3).stream("teacher");

    // No steps: P = W_raw, so the logits are the zero-shot teacher's.
    const still = await clap(0);
    const l0 = await still.forRound(0, labeled, undefined, rng(), silentProgress);
    still.dispose?.();
    const clip = await loadClip();
    const zs = await modelTeacher({
      spec: "clip-zeroshot",
      weightsKey: "zs",
      description: "",
      input: clipInput(clip),
      open: () => Promise.resolve(new ClipZeroShot(clip, datasetClassWeights(clip, tokenizer, DS))),
      data,
      sets,
      cache,
    });
    assert.equal(l0.train.length, data.train.length * 3);
    const z = await zs.forRound(0, labeled, undefined, rng(), silentProgress);
    assertClose(l0.train, z.train, { rtol: 1e-4, atol: 1e-3, what: "train logits" });
    assertClose(l0.test, z.test, { rtol: 1e-4, atol: 1e-3, what: "test logits" });

    // Fitted: reproducible with the same labels and stream, different with other labels.
    const a = await clap(64);
    const la = await a.forRound(1, labeled, undefined, rng(), silentProgress);
    assert.equal(await a.forRound(1, labeled, undefined, rng(), silentProgress), la);
    const lm = await a.forRound(2, more, labeled, rng(), silentProgress);
    a.dispose?.();
    assert.notDeepEqual(lm.test, la.test);
    assert.notDeepEqual(la.test, l0.test);
    const b = await clap(64);
    assert.deepEqual(await b.forRound(1, labeled, undefined, rng(), silentProgress), la);
    b.dispose?.();
    // The official lag: round r is fitted on round r−1's labels.
    const lagged = await clap(64, true);
    assert.deepEqual(await lagged.forRound(1, more, labeled, rng(), silentProgress), la);
    assert.notEqual(lagged.key, still.key);
    lagged.dispose?.();
    assert.equal(engine().pool.liveBytes, live, "CLAP teachers leaked GPU memory");
  });
}, { oneBackend: true });

Deno.test("--clip: a folder with one checkpoint and the vocabulary", async () => {
  await withTempDir(async (dir) => {
    await assert.rejects(findClipFiles(join(dir, "none")), /--clip .*none: no such file/);
    await Deno.writeTextFile(join(dir, "RN50.safetensors"), "");
    await assert.rejects(
      findClipFiles(dir),
      (e) => e instanceof InputError && /no BPE vocabulary/.test(e.message),
    );
    await Deno.writeTextFile(join(dir, "bpe_simple_vocab_16e6.txt.gz"), "");
    assert.deepEqual(await findClipFiles(dir), {
      weights: join(dir, "RN50.safetensors"),
      vocab: join(dir, "bpe_simple_vocab_16e6.txt.gz"),
    });
    assert.deepEqual(await findClipFiles(join(dir, "RN50.safetensors")), {
      weights: join(dir, "RN50.safetensors"),
      vocab: join(dir, "bpe_simple_vocab_16e6.txt.gz"),
    });
    await Deno.writeTextFile(join(dir, "ViT-B-32.safetensors"), "");
    await assert.rejects(
      findClipFiles(dir),
      (e) =>
        e instanceof InputError &&
        /expected one \.safetensors checkpoint in the folder, found RN50\.safetensors, ViT-B-32/
          .test(e.message),
    );
  });
});
