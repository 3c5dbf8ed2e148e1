/**
 * Tip-Adapter-F against Debian PyTorch (fixtures/tip_reference.json, made by
 * make_tip_fixtures.py on the tiny CLIP fixture's text features): initial keys, the fine-tuning
 * epochs (losses, kept keys, best epoch), the α/β search and the logits.
 */
import assert from "node:assert/strict";
import {
  fitTipKeys,
  initialKeys,
  oneHot,
  searchGrid,
  searchTip,
  TIP_DEFAULTS,
  TIP_PUBLISHED,
  tipHyper,
  tipLogits,
  tipStepsPerEpoch,
} from "../../../al/teachers/tip_fit.ts";
import { coopName } from "../../../al/data/coop.ts";
import { accuracy } from "../../../al/train/evaluate.ts";
import { engine } from "../../../engine/context.ts";
import { matmul } from "../../../engine/ops/matmul.ts";
import { scopeAsync, tensor } from "../../../engine/tensor.ts";
import { assertClose, gpuTest } from "../../gpu.ts";

const ref = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/tip_reference.json", import.meta.url)),
);
const { E, C, M } = ref;
const hyper = { alpha: ref.alpha0, beta: ref.beta0, searchScale: ref.search_scale };
const settings = { ...TIP_DEFAULTS, batch: ref.batch, epochs: ref.epochs, lr: ref.lr };

Deno.test("Tip-Adapter: initial keys are the normalised mean of the augmented passes", () => {
  const keys = initialKeys(ref.passes.map((p: number[]) => Float32Array.from(p)), E);
  assertClose(keys, ref.keys0, { rtol: 1e-5, atol: 1e-6, what: "keys0" });
  assert.equal(tipStepsPerEpoch(7, settings), 2);
  assert.equal(tipStepsPerEpoch(256), 1);
  assert.equal(tipStepsPerEpoch(257), 2);
  assert.deepEqual(searchGrid(3, 20).slice(0, 2), [0.1, 0.1 + 2.9 / 20]);
});

Deno.test("Tip-Adapter: the published α, β, search scales are keyed by the datasets' names", () => {
  for (const name of Object.keys(TIP_PUBLISHED)) assert.equal(coopName(name), name);
  assert.deepEqual(tipHyper("DTD"), { alpha: 2, beta: 1, searchScale: [13, 13] });
  assert.equal(tipHyper("folder-dataset"), TIP_PUBLISHED.ImageNet);
});

/** Validation accuracy of `keys` with α, β at their initial values, on the device. */
async function valAccuracy(keys: Float32Array, alpha = ref.alpha0, beta = ref.beta0) {
  const z = await scopeAsync(() =>
    tipLogits(
      tensor(ref.val, [ref.val_labels.length, E]),
      tensor(ref.w, [E, C]),
      tensor(keys, [M, E]),
      tensor(oneHot(ref.key_labels, C), [M, C]),
      alpha,
      beta,
    ).read()
  );
  return accuracy(z, ref.val_labels, C);
}

gpuTest(
  "Tip-Adapter-F: key fine-tuning epochs match PyTorch (AdamW, cosine, best epoch)",
  async () => {
    const live = engine().pool.liveBytes;
    const values = tensor(oneHot(ref.key_labels, C), [M, C]);
    const weights = tensor(ref.w, [E, C]);
    const fit = await fitTipKeys({
      keys0: Float32Array.from(ref.keys0),
      values,
      weights,
      hyper,
      stepsPerEpoch: tipStepsPerEpoch(M, settings),
      batch: (k) =>
        Promise.resolve({
          features: tensor(ref.batches[k].features, [ref.batches[k].labels.length, E]),
          labels: Int32Array.from(ref.batches[k].labels),
        }),
      score: (keys) => valAccuracy(keys),
      settings,
    });
    assert.equal(fit.losses.length, ref.losses.length);
    assertClose(fit.losses, ref.losses, { rtol: 1e-4, atol: 1e-5, what: "losses" });
    // PyTorch's accuracies are float32 means, ours float64: the same counts of 48.
    assertClose(fit.accuracies, ref.accuracies, { atol: 1e-6, what: "val accuracies" });
    assert.equal(fit.bestEpoch, ref.best_epoch);
    assertClose(fit.keys, ref.epoch_keys[ref.best_epoch], { rtol: 1e-4, atol: 1e-6, what: "keys" });
    // The keys moved: a fit that returned keys0 unchanged would not pass.
    const moved = fit.keys.some((v, i) => Math.abs(v - ref.keys0[i]) > 1e-5);
    assert.ok(moved, "fine-tuning left the keys unchanged");
    values.dispose();
    weights.dispose();
    assert.equal(engine().pool.liveBytes, live, "Tip-Adapter fit leaked GPU memory");
  },
  { oneBackend: true },
);

gpuTest("Tip-Adapter-F: α/β search on val and the final logits match PyTorch", async () => {
  const keys = Float32Array.from(ref.epoch_keys[ref.best_epoch]);
  const n = ref.val_labels.length;
  const [clipLogits, affinity] = await scopeAsync(async () => {
    const f = tensor(ref.val, [n, E]);
    return [
      await matmul(f, tensor(ref.w, [E, C]), { alpha: 100 }).read() as Float32Array,
      await matmul(f, tensor(keys, [M, E]), { transB: true }).read() as Float32Array,
    ];
  });
  const found = searchTip({
    clipLogits,
    affinity,
    keyLabels: Int32Array.from(ref.key_labels),
    labels: Int32Array.from(ref.val_labels),
    classes: C,
    hyper,
    settings,
  });
  assert.equal(found.accuracy, ref.search.accuracy);
  assert.equal(found.alpha, ref.search.alpha);
  assert.equal(found.beta, ref.search.beta);

  const nTest = ref.test_logits.length / C;
  const z = await scopeAsync(() =>
    tipLogits(
      tensor(ref.test, [nTest, E]),
      tensor(ref.w, [E, C]),
      tensor(keys, [M, E]),
      tensor(oneHot(ref.key_labels, C), [M, C]),
      found.alpha,
      found.beta,
    ).read()
  );
  assertClose(z, ref.test_logits, { rtol: 1e-5, atol: 1e-4, what: "tip logits" });
}, { oneBackend: true });
