/**
 * The GPU learner end to end on tiny images with the MLP student: training lowers the loss and
 * learns the task, eval predictions survive a save/load round trip bit for bit, the same RNG
 * gives the same student, and no GPU memory is left behind.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { GpuLearner } from "../../../al/train/learner.ts";
import { ImageInputs } from "../../../al/train/inputs.ts";
import { buildStudent } from "../../../al/train/backbones.ts";
import { accuracy } from "../../../al/train/evaluate.ts";
import { silentProgress } from "../../../al/progress.ts";
import { engine } from "../../../engine/context.ts";
import { Rng } from "../../../engine/rng.ts";
import { gpuTest } from "../../gpu.ts";
import { tinyData, tinySet, withTempDir } from "../teachers/tiny.ts";

const C = 3;
const SIZE = 8;

gpuTest("learner: trains, predicts, saves and loads the MLP student", async () => {
  await withTempDir(async (dir) => {
    const live = engine().pool.liveBytes;
    const train = tinySet(48, C);
    const test = tinySet(24, C, 1);
    const data = tinyData(train, test, C);
    // A teacher that knows the labels (one-hot logits, scaled).
    const teacher = new Float32Array(data.train.length * C);
    data.train.forEach((i, k) => (teacher[k * C + train.labels[i]] = 4));
    const inputs = new ImageInputs({ train, test }, { size: SIZE });
    const learner = new GpuLearner({
      data,
      inputs,
      build: (rng) => buildStudent("mlp", C, SIZE, rng),
      settings: {
        repeat: 30,
        batchSize: 8,
        lr: 3e-3,
        weightDecay: 0.01,
        warmup: 0.1,
        temperature: 2,
      },
    });
    const labeled = data.train.subarray(0, 6);
    const unlabeled = data.train.subarray(6);
    const args = {
      labeled,
      unlabeled,
      teacher,
      progress: silentProgress,
      label: "t",
    };
    const a = await learner.train({ ...args, rng: Rng.fromSeed(5) });
    const pa = await a.predict("test", data.test, silentProgress, "p");
    assert.equal(pa.ce.length, 24 * C);
    assert.equal(pa.features.length, 24 * pa.dim);
    const acc = accuracy(pa.kd, data.testLabels, C);
    assert.ok(acc > 0.6, `KD head test accuracy ${acc}`);

    const b = await learner.train({ ...args, rng: Rng.fromSeed(5) });
    const pb = await b.predict("test", data.test, silentProgress, "p");
    assert.deepEqual(pb, pa, "same rng, different student");

    const file = join(dir, "s.safetensors");
    await a.save(file);
    const c = await learner.load(file);
    assert.deepEqual(await c.predict("test", data.test, silentProgress, "p"), pa);
    const d = await learner.train({ ...args, rng: Rng.fromSeed(6) });
    assert.notDeepEqual((await d.predict("test", data.test, silentProgress, "p")).ce, pa.ce);
    for (const s of [a, b, c, d]) s.dispose();
    assert.equal(engine().pool.liveBytes, live, "students leaked GPU memory");
  });
}, { oneBackend: true });
