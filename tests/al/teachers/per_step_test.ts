/**
 * Every model teacher with `perStep` (augmented teacher input, docs/method.md §1 "Teacher input"):
 * `forRound` hands training the round's teacher as a model whose logits on the eval inputs are
 * the cached logits (so the two modes distil the same teacher); the device memory it holds is
 * released when the next round refits and when the teacher is disposed; without `perStep` there
 * is no model. On the tiny CLIP fixture (clip_rn) for clip-zeroshot, clap and tip-adapter-f.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { ImageSet } from "../../../al/data/image.ts";
import type { RoundTeacher } from "../../../al/ports.ts";
import { silentProgress } from "../../../al/progress.ts";
import { LogitsCache } from "../../../al/teachers/cache.ts";
import { clapTeacher } from "../../../al/teachers/clap.ts";
import { ClipZeroShot, datasetClassWeights } from "../../../al/teachers/clip_zeroshot.ts";
import { modelTeacher } from "../../../al/teachers/model_teacher.ts";
import { tipAdapterTeacher } from "../../../al/teachers/tip_adapter.ts";
import { TIP_DEFAULTS } from "../../../al/teachers/tip_fit.ts";
import { ImageInputs } from "../../../al/train/inputs.ts";
import { noGradAsync } from "../../../engine/autograd.ts";
import { engine } from "../../../engine/context.ts";
import { Rng } from "../../../engine/rng.ts";
import { scopeAsync, tensor } from "../../../engine/tensor.ts";
import { assertClose, gpuTest } from "../../gpu.ts";
import { tinyClipModel, tinyData, tinySet, withTempDir } from "./tiny.ts";

const CLASSES = ["a", "b", "c"];
const C = CLASSES.length;
const { model } = await tinyClipModel(CLASSES);

/** The round's per-step model on the eval inputs of the images in play ≈ the cached logits. */
async function checkRound(
  teacher: RoundTeacher,
  sets: Record<"train" | "test", ImageSet>,
  train: Int32Array,
  labeled: Int32Array,
  what: string,
) {
  const logits = await teacher.forRound(1, labeled, undefined, Rng.fromSeed(3), silentProgress);
  const pixels = logits.pixels;
  assert.ok(pixels, `${what}: no per-step model`);
  const inputs = new ImageInputs(sets, { ...pixels.input, cacheBytes: 0 });
  const s = pixels.input.size;
  const z = await noGradAsync(() =>
    scopeAsync(async () => {
      const x = tensor(await inputs.evalBatch("train", train), [train.length, 3, s, s]);
      return await pixels.logits(x).read();
    })
  );
  // float32 on both paths, CLIP's features in other batches: a few ulps of the logits' scale.
  assertClose(z, logits.train, { rtol: 1e-4, atol: 1e-3, what });
}

gpuTest(
  "per-step teachers: each round's model gives the cached logits; memory is released",
  async () => {
    await withTempDir(async (dir) => {
      const live = engine().pool.liveBytes;
      const train = tinySet(24, C);
      const test = tinySet(9, C, 1);
      const val = tinySet(12, C, 2);
      const sets = { train, test };
      const data = tinyData(train, test, C);
      const ds = { name: "tiny", classes: CLASSES, template: "{}", splits: { train, val, test } };
      const cache = new LogitsCache(join(dir, "cache"));
      const labeled = Int32Array.of(0, 1, 2, 4);
      const more = Int32Array.of(0, 1, 2, 4, 5, 6);

      // clip-zeroshot: the model is opened once, kept for training, and freed with the teacher.
      const m = await model();
      const zs = new ClipZeroShot(m.clip, datasetClassWeights(m.clip, m.tokenizer, ds));
      let opened = 0, disposed = 0;
      const zeroShot = await modelTeacher({
        spec: "clip-zeroshot",
        weightsKey: "zs",
        description: "",
        input: zs.input,
        open: () => {
          opened++;
          return Promise.resolve({
            input: zs.input,
            logits: (x) => zs.logits(x),
            dispose: () => (disposed++, zs.dispose()),
          });
        },
        data,
        sets,
        cache,
        perStep: true,
      });
      await checkRound(zeroShot, sets, data.train, labeled, "clip-zeroshot round 1");
      await checkRound(zeroShot, sets, data.train, more, "clip-zeroshot round 2");
      assert.deepEqual([opened, disposed], [1, 0]);
      zeroShot.dispose?.();
      assert.deepEqual([opened, disposed], [1, 1]);
      assert.equal(engine().pool.liveBytes, live, "clip-zeroshot: GPU memory left behind");

      const clap = (perStep: boolean) =>
        model().then((m) =>
          clapTeacher({
            model: m,
            ds,
            data,
            sets,
            lag: false,
            cache,
            settings: { lr: 0.01, momentum: 0.9, warmup: 0.1, epochs: 2, batch: 8 },
            perStep,
          })
        );
      const tip = (perStep: boolean) =>
        model().then((m) =>
          tipAdapterTeacher({
            model: m,
            ds,
            data,
            lag: false,
            cache,
            settings: {
              ...TIP_DEFAULTS,
              epochs: 1,
              batch: 4,
              augmentPasses: 1,
              searchSteps: [4, 2],
            },
            perStep,
          })
        );
      for (const [name, make] of [["clap", clap], ["tip-adapter-f", tip]] as const) {
        const cached = await make(false);
        const l = await cached.forRound(1, labeled, undefined, Rng.fromSeed(3), silentProgress);
        assert.equal(l.pixels, undefined, `${name}: a per-step model in cached mode`);
        cached.dispose?.();
        const t = await make(true);
        await checkRound(t, sets, data.train, labeled, `${name} round 1`);
        // The next round's refit replaces the model; dispose frees only the last one, so a model
        // not freed at the refit shows below.
        await checkRound(t, sets, data.train, more, `${name} round 2`);
        t.dispose?.();
        assert.equal(engine().pool.liveBytes, live, `${name}: GPU memory left behind`);
      }
    });
  },
  { oneBackend: true },
);
