/**
 * The `tip-adapter-f` teacher on the tiny CLIP fixture (case A, clip_rn): reproducible fits, fits
 * that follow the labels, the official one-round lag, no leaks; a fit converted from the official
 * `.pt` files (fixtures/tip_fit.safetensors, by make_tip_fixtures.py and
 * tools/convert_tip_adapter.py) loads with its keys, values, α, β and gives its logits; bad fits
 * and a dataset without val are InputErrors.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { ImageSet } from "../../../al/data/image.ts";
import { silentProgress } from "../../../al/progress.ts";
import { LogitsCache } from "../../../al/teachers/cache.ts";
import { clipFeaturesPass } from "../../../al/teachers/clip_features.ts";
import { datasetClassWeights } from "../../../al/teachers/clip_zeroshot.ts";
import { loadTipCache, tipAdapterTeacher } from "../../../al/teachers/tip_adapter.ts";
import { oneHot, TIP_DEFAULTS } from "../../../al/teachers/tip_fit.ts";
import { engine } from "../../../engine/context.ts";
import { InputError } from "../../../engine/errors.ts";
import { Rng } from "../../../engine/rng.ts";
import { assertClose, gpuTest } from "../../gpu.ts";
import { tinyClipModel, tinyData, tinySet, withTempDir } from "./tiny.ts";

const CLASSES = ["a", "b", "c"];
const FIT = new URL("./fixtures/tip_fit.safetensors", import.meta.url).pathname;
const ref = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/tip_reference.json", import.meta.url)),
);

const SETTINGS = {
  ...TIP_DEFAULTS,
  epochs: 2,
  batch: 4,
  augmentPasses: 2,
  searchSteps: [8, 4] as const,
};

function tinyDs(val: ImageSet) {
  const train = tinySet(24, 3);
  const test = tinySet(9, 3, 1);
  return {
    ds: { name: "tiny", classes: CLASSES, template: "{}", splits: { train, val, test } },
    data: tinyData(train, test, 3),
  };
}

const { model, clipHash } = await tinyClipModel(CLASSES);

gpuTest(
  "tip-adapter-f: reproducible fits that follow the labels, the lag, no leaks",
  async () => {
    await withTempDir(async (dir) => {
      const live = engine().pool.liveBytes;
      const { ds, data } = tinyDs(tinySet(12, 3, 2));
      const cache = new LogitsCache(join(dir, "cache"));
      const tip = async (lag = false) =>
        await tipAdapterTeacher({
          model: await model(),
          ds,
          data,
          lag,
          cache,
          settings: SETTINGS,
        });
      const labeled = Int32Array.of(0, 1, 2, 4);
      const more = Int32Array.of(0, 1, 2, 4, 5, 6);
      const rng = () => Rng.fromSeed(3).stream("teacher");

      const a = await tip();
      const la = await a.forRound(1, labeled, undefined, rng(), silentProgress);
      assert.equal(la.train.length, data.train.length * 3);
      assert.equal(la.test.length, data.test.length * 3);
      assert.ok(la.test.every(Number.isFinite));
      const lm = await a.forRound(2, more, labeled, rng(), silentProgress);
      assert.notDeepEqual(lm.test, la.test);
      a.dispose?.();
      const b = await tip();
      assert.deepEqual(await b.forRound(1, labeled, undefined, rng(), silentProgress), la);
      b.dispose?.();
      // Another stream draws other crops and batches, so other keys.
      const c = await tip();
      const other = await c.forRound(1, labeled, undefined, Rng.fromSeed(4), silentProgress);
      assert.notDeepEqual(other.test, la.test);
      c.dispose?.();
      const lagged = await tip(true);
      assert.deepEqual(await lagged.forRound(1, more, labeled, rng(), silentProgress), la);
      assert.notEqual(lagged.key, a.key);
      lagged.dispose?.();
      assert.equal(engine().pool.liveBytes, live, "Tip-Adapter-F teachers leaked GPU memory");
    });
  },
  { oneBackend: true },
);

gpuTest("tip-adapter-f:FIT: a converted official fit loads and gives its logits", async () => {
  await withTempDir(async (dir) => {
    const loaded = await loadTipCache(FIT, clipHash, ref.E, ref.C);
    assertClose(loaded.keys, ref.epoch_keys[ref.best_epoch], { atol: 0, what: "keys" });
    assert.deepEqual(loaded.values, oneHot(ref.key_labels, ref.C));
    assert.equal(loaded.alpha, Math.fround(ref.search.alpha));
    assert.equal(loaded.beta, Math.fround(ref.search.beta));

    const { ds, data } = tinyDs(tinySet(0, 3));
    const cache = new LogitsCache(join(dir, "cache"));
    const t = await tipAdapterTeacher({
      model: await model(),
      ds,
      data,
      lag: false,
      cache,
      fitFile: FIT,
    });
    assert.equal(t.spec, `tip-adapter-f:${FIT}`);
    const got = await t.forRound(0, Int32Array.of(0), undefined, Rng.fromSeed(1), silentProgress);
    t.dispose?.();

    // Float64 reference from the same CLIP features and zero-shot head.
    const m = await model();
    const f = await cache.pass(
      await clipFeaturesPass({
        clip: m.clip,
        weightsHash: clipHash,
        dataset: "tiny",
        split: "test",
        set: ds.splits.test,
        indices: data.test,
        batch: 64,
        teacher: "test",
      }),
      silentProgress,
    );
    const { weights, raw } = datasetClassWeights(m.clip, m.tokenizer, ds);
    const w = await weights.read() as Float32Array;
    weights.dispose();
    raw.dispose();
    m.clip.dispose();
    const [E, C] = [ref.E, ref.C];
    const M = loaded.keys.length / E;
    const expected = new Float64Array(data.test.length * C);
    for (let i = 0; i < data.test.length; i++) {
      const row = f.subarray(i * E, (i + 1) * E);
      const norm = Math.hypot(...row);
      const x = Array.from(row, (v) => v / norm);
      for (let c = 0; c < C; c++) {
        let z = 0;
        for (let k = 0; k < E; k++) z += x[k] * w[k * C + c];
        expected[i * C + c] = 100 * z;
      }
      for (let j = 0; j < M; j++) {
        let a = 0;
        for (let k = 0; k < E; k++) a += x[k] * loaded.keys[j * E + k];
        const e = loaded.alpha * Math.exp(-loaded.beta * (1 - a));
        for (let c = 0; c < C; c++) expected[i * C + c] += e * loaded.values[j * C + c];
      }
    }
    assertClose(got.test, expected, { rtol: 1e-4, atol: 1e-3, what: "loaded-fit logits" });
  });
}, { oneBackend: true });

gpuTest(
  "tip-adapter-f: a fit for other CLIP weights, a bad file, no val: InputErrors",
  async () => {
    await withTempDir(async (dir) => {
      await assert.rejects(
        loadTipCache(FIT, "0".repeat(64), ref.E, ref.C),
        (e) =>
          e instanceof InputError &&
          /fitted with CLIP weights [0-9a-f]{64}, not the given/.test(e.message),
      );
      await assert.rejects(
        loadTipCache(FIT, clipHash, ref.E, 5),
        (e) =>
          e instanceof InputError &&
          /do not fit CLIP's 48-d features and the dataset's 5 classes/.test(e.message),
      );
      const { ds, data } = tinyDs(tinySet(0, 3));
      const live = engine().pool.liveBytes;
      const m = await model();
      // The teacher owns the CLIP it is given, also when it refuses.
      await assert.rejects(
        tipAdapterTeacher({ model: m, ds, data, lag: false, cache: new LogitsCache(dir) }),
        (e) => e instanceof InputError && /dataset tiny has no val split/.test(e.message),
      );
      assert.equal(engine().pool.liveBytes, live, "a refused teacher kept its CLIP");
    });
  },
  { oneBackend: true },
);
