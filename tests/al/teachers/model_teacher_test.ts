import assert from "node:assert/strict";
import { join } from "node:path";
import { LogitsCache } from "../../../al/teachers/cache.ts";
import { type LogitsModel, modelTeacher } from "../../../al/teachers/model_teacher.ts";
import { silentProgress } from "../../../al/progress.ts";
import { Rng } from "../../../engine/rng.ts";
import { evalTransformReference, normalize } from "../../../al/data/transforms.ts";
import { reduceRaw } from "../../../engine/ops/reduce.ts";
import { reshape } from "../../../engine/ops/shape.ts";
import { affine } from "../../../engine/ops/elementwise.ts";
import type { Tensor } from "../../../engine/tensor.ts";
import { assertClose, gpuTest } from "../../gpu.ts";
import { tinyData, tinySet, withTempDir } from "./tiny.ts";

const C = 3;
const INPUT = { size: 8, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] };

/** logits[b, c] = 2 · mean of channel c of image b (a model the test can recompute on the CPU). */
class ChannelMeans implements LogitsModel {
  readonly input = INPUT;
  opened = 0;
  disposed = 0;
  logits(x: Tensor): Tensor {
    const [b] = x.shape;
    const m = reduceRaw("sum", reshape(x, [b, 3, 64]), [2]);
    return affine(m, 2 / 64);
  }
  dispose(): void {
    this.disposed++;
  }
}

function expected(set: ReturnType<typeof tinySet>, indices: Int32Array): number[] {
  return Array.from(indices).flatMap((i) => {
    const x = normalize(evalTransformReference(set.get(i) as never, 8), INPUT.mean, INPUT.std).data;
    return [0, 1, 2].map((c) =>
      (2 * x.slice(c * 64, (c + 1) * 64).reduce((a, v) => a + v, 0)) / 64
    );
  });
}

gpuTest("model teacher: eval-transform logits, cached by content key", async () => {
  await withTempDir(async (dir) => {
    const train = tinySet(21, C);
    const test = tinySet(9, C, 1);
    const data = tinyData(train, test, C);
    const cache = new LogitsCache(join(dir, "teachers"));
    const model = new ChannelMeans();
    const make = (d = data) =>
      modelTeacher({
        spec: "fake",
        weightsKey: "w1",
        description: "channel means",
        input: INPUT,
        open: () => {
          model.opened++;
          return Promise.resolve(model);
        },
        data: d,
        sets: { train, test },
        cache,
        batch: 4,
      });
    const t1 = await make();
    const a = await t1.forRound(0, new Int32Array(), undefined, Rng.fromSeed(0), silentProgress);
    assert.equal(a.train.length, data.train.length * C);
    assertClose(a.train, expected(train, data.train), { rtol: 1e-5, atol: 1e-5, what: "train" });
    assertClose(a.test, expected(test, data.test), { rtol: 1e-5, atol: 1e-5, what: "test" });
    assert.equal(model.opened, 1);
    assert.equal(model.disposed, 1);
    // Later rounds reuse the logits; a new teacher over the same data hits the disk cache.
    assert.equal(
      await t1.forRound(3, new Int32Array(), undefined, Rng.fromSeed(0), silentProgress),
      a,
    );
    const t2 = await make();
    assert.equal(t2.key, t1.key);
    const b = await t2.forRound(0, new Int32Array(), undefined, Rng.fromSeed(0), silentProgress);
    assert.equal(model.opened, 1, "cache miss");
    assert.deepEqual(b, a);
    assert.equal([...Deno.readDirSync(join(dir, "teachers"))].length, 2);
    // Other images in play: another key, computed again.
    const t3 = await make({ ...data, train: data.train.subarray(2) });
    assert.notEqual(t3.key, t1.key);
    await t3.forRound(0, new Int32Array(), undefined, Rng.fromSeed(0), silentProgress);
    assert.equal(model.opened, 2);
  });
}, { oneBackend: true });
