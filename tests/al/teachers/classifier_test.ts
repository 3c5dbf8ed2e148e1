/**
 * Classifier teachers: the architecture read back from checkpoints (torchvision fixtures C and
 * D, the tool's MLP), the hold-out classifier trained once and then served from the cache, and
 * `classifier:CKPT` logits matching the model's own forward pass.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { resolveConfig } from "../../../al/config.ts";
import type { Dataset } from "../../../al/data/image.ts";
import { silentProgress } from "../../../al/progress.ts";
import { holdoutClassifier } from "../../../al/teachers/holdout.ts";
import { classifierTeacher } from "../../../al/teachers/classifier.ts";
import { LogitsCache } from "../../../al/teachers/cache.ts";
import { classifierShape } from "../../../al/train/backbones.ts";
import { accuracy } from "../../../al/train/evaluate.ts";
import { InputError } from "../../../engine/errors.ts";
import { Rng } from "../../../engine/rng.ts";
import { loadSafetensors } from "../../../engine/safetensors.ts";
import { fixture } from "../../fixtures.ts";
import { gpuTest } from "../../gpu.ts";
import { tinyData, tinySet, withTempDir } from "./tiny.ts";

Deno.test("classifier shape: torchvision resnet18 and mobilenet_v2 checkpoints (cases C, D)", async () => {
  const shapeOf = async (dir: string) =>
    classifierShape((await loadSafetensors(fixture(dir, "model.safetensors"))).tensors, dir);
  assert.deepEqual(await shapeOf("resnet18"), { arch: "resnet18", classes: 7, width: 8 });
  assert.deepEqual(await shapeOf("mobilenet_v2"), { arch: "mobilenet_v2", classes: 10, width: 1 });
  assert.throws(
    () => classifierShape(new Map([["w", { shape: [1] }]]), "x.safetensors"),
    (e) => e instanceof InputError && e.message.startsWith("x.safetensors: not a classifier"),
  );
});

gpuTest("holdout-classifier: trained on the held-out slice once, then cached", async () => {
  await withTempDir(async (dir) => {
    const C = 3;
    const train = tinySet(60, C);
    const test = tinySet(30, C, 1);
    const ds: Dataset = {
      name: "tiny",
      classes: ["a", "b", "c"],
      splits: { train, val: tinySet(0, C), test },
    };
    const config = resolveConfig({
      teacher: "holdout-classifier",
      teacherArch: "mlp",
      teacherWidth: 32,
      teacherSteps: 60,
      batchSize: 16,
      lr: 3e-3,
      imageSize: 8,
    });
    const held = Int32Array.from({ length: 24 }, (_, i) => i);
    const logs: string[] = [];
    const progress = { ...silentProgress, log: (m: string) => logs.push(m) };
    const a = await holdoutClassifier({ config, ds, held, progress, dir });
    assert.match(a.description, /held out of the AL pool \(not CLIP\)/);
    assert.equal(logs.length, 0);
    const b = await holdoutClassifier({ config, ds, held, progress, dir });
    assert.equal(b.checkpoint, a.checkpoint);
    assert.match(logs[0], /cached holdout classifier/);
    const other = await holdoutClassifier({ config, ds, held: held.subarray(1), progress, dir });
    assert.notEqual(other.checkpoint, a.checkpoint);

    const data = tinyData(train, test, C);
    const teacher = await classifierTeacher({
      spec: "holdout-classifier",
      checkpoint: a.checkpoint,
      description: a.description,
      imageSize: 8,
      data,
      sets: { train, test },
      cache: new LogitsCache(join(dir, "logits")),
    });
    const logits = await teacher.forRound(
      0,
      new Int32Array(),
      undefined,
      Rng.fromSeed(0),
      silentProgress,
    );
    const acc = accuracy(logits.test, data.testLabels, C);
    assert.ok(acc > 0.5, `holdout teacher test accuracy ${acc} (chance: 1/3)`);
    await assert.rejects(
      classifierTeacher({
        spec: "classifier",
        checkpoint: a.checkpoint,
        imageSize: 8,
        data: { ...data, classes: ["a", "b"] },
        sets: { train, test },
      }),
      (e) =>
        e instanceof InputError && /a classifier of 3 classes, the dataset has 2/.test(e.message),
    );
  });
}, { oneBackend: true });
