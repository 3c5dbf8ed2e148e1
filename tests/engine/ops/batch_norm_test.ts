/**
 * batch_norm2d: training and evaluation forward against the float64 reference (odd channel
 * counts, several chunks and channel blocks, a large mean offset), the running-statistics update
 * (momentum, unbiased variance, num_batches_tracked), the fused residual + relu/relu6, and
 * finite-difference gradient checks in both modes.
 */
import assert from "node:assert/strict";
import { assertClose, gpuTest, randomData } from "../../gpu.ts";
import { gradcheck, type GradInput } from "../../gradcheck.ts";
import { batchNorm2d } from "../../../engine/ops/batch_norm.ts";
import { scopeAsync, tensor } from "../../../engine/tensor.ts";
import { noGrad } from "../../../engine/autograd.ts";
import { batchNormReference } from "../../../kernels/norm/batch_norm.ts";

const size = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);

gpuTest("batch_norm2d training forward and running-stat update match the reference", async () => {
  const shapes = [[2, 5, 3, 7], [3, 70, 4, 5], [4, 3, 11, 13]];
  let seed = 1;
  for (const shape of shapes) {
    const c = shape[1];
    // A mean offset far larger than the spread: the variance must not cancel.
    const xd = randomData(size(shape), seed++, 99, 101);
    const wd = randomData(c, seed++, 0.5, 1.5), bd = randomData(c, seed++);
    const rm = randomData(c, seed++), rv = randomData(c, seed++, 0.5, 2);
    const ref = batchNormReference(xd, shape, wd, bd, { training: true });
    const n = size(shape) / c;
    const [y, m, v, nbt] = await scopeAsync(async () => {
      const runningMean = tensor(rm, [c]), runningVar = tensor(rv, [c]);
      const numBatchesTracked = tensor(new Int32Array([7]), [], "i32");
      const out = noGrad(() =>
        batchNorm2d(tensor(xd, shape), tensor(wd, [c]), tensor(bd, [c]), {
          training: true,
          runningMean,
          runningVar,
          numBatchesTracked,
        })
      );
      return [
        await out.read(),
        await runningMean.read(),
        await runningVar.read(),
        await numBatchesTracked.read(),
      ];
    });
    assertClose(y, ref.out, { rtol: 1e-4, atol: 2e-4, what: `train [${shape}]` });
    const expMean = ref.mean.map((mu, k) => 0.9 * rm[k] + 0.1 * mu);
    const expVar = ref.variance.map((s2, k) => 0.9 * rv[k] + 0.1 * s2 * n / (n - 1));
    assertClose(m, expMean, { rtol: 1e-6, atol: 1e-5, what: "running_mean" });
    assertClose(v, expVar, { rtol: 1e-3, atol: 1e-6, what: "running_var (unbiased)" });
    assert.equal(nbt[0], 8);
  }
});

gpuTest("batch_norm2d evaluation uses the running statistics", async () => {
  const shape = [2, 6, 5, 3];
  const xd = randomData(size(shape), 3), wd = randomData(6, 4), bd = randomData(6, 5);
  const rm = randomData(6, 6), rv = randomData(6, 7, 0.2, 3);
  const ref = batchNormReference(xd, shape, wd, bd, {
    training: false,
    runningMean: rm,
    runningVar: rv,
  });
  const y = await scopeAsync(() =>
    noGrad(() =>
      batchNorm2d(tensor(xd, shape), tensor(wd, [6]), tensor(bd, [6]), {
        training: false,
        runningMean: tensor(rm, [6]),
        runningVar: tensor(rv, [6]),
      })
    ).read()
  );
  assertClose(y, ref.out, { rtol: 1e-5, atol: 1e-5, what: "eval" });
});

gpuTest("batch_norm2d fused residual and relu / relu6", async () => {
  const shape = [3, 5, 4, 3];
  const xd = randomData(size(shape), 8), rd = randomData(size(shape), 9, -4, 4);
  const wd = randomData(5, 10, 2, 4), bd = randomData(5, 11, 2, 4);
  const ref = batchNormReference(xd, shape, wd, bd, { training: true });
  for (const [act, hi] of [["relu", Infinity], ["relu6", 6]] as const) {
    const y = await scopeAsync(() =>
      noGrad(() =>
        batchNorm2d(tensor(xd, shape), tensor(wd, [5]), tensor(bd, [5]), {
          training: true,
          residual: tensor(rd, shape),
          activation: act,
        })
      ).read()
    );
    const expected = ref.out.map((v, i) => Math.min(Math.max(v + rd[i], 0), hi));
    assert.ok(expected.some((v) => v === 0) && expected.some((v) => v === hi || v > 0));
    assertClose(y, expected, { rtol: 1e-5, atol: 1e-5, what: act });
  }
});

gpuTest("batch_norm2d gradients match finite differences (training and evaluation)", async () => {
  const shape = [2, 5, 3, 4];
  const c = 5;
  const inputs: GradInput[] = [
    { data: randomData(size(shape), 12), shape },
    { data: randomData(c, 13, 0.5, 1.5), shape: [c] },
    { data: randomData(c, 14), shape: [c] },
  ];
  await gradcheck(
    "batch_norm train",
    inputs,
    ([x, w, b]) => batchNorm2d(x, w, b, { training: true }),
    ([x, w, b]) => batchNormReference(x, shape, w, b, { training: true }).out,
    { rtol: 2e-3, atol: 2e-4 },
  );
  const rm = randomData(c, 15), rv = randomData(c, 16, 0.5, 2);
  await gradcheck(
    "batch_norm eval",
    inputs,
    ([x, w, b]) =>
      batchNorm2d(x, w, b, {
        training: false,
        runningMean: tensor(rm, [c]),
        runningVar: tensor(rv, [c]),
      }),
    ([x, w, b]) =>
      batchNormReference(x, shape, w, b, { training: false, runningMean: rm, runningVar: rv })
        .out,
    { rtol: 2e-3, atol: 2e-4 },
  );
});

gpuTest("batch_norm2d gradients through a fused residual and relu", async () => {
  const shape = [2, 3, 4, 3];
  const inputs: GradInput[] = [
    { data: randomData(size(shape), 17), shape },
    { data: randomData(3, 18, 0.5, 1.5), shape: [3] },
    { data: randomData(3, 19), shape: [3] },
    { data: randomData(size(shape), 20), shape },
  ];
  await gradcheck(
    "batch_norm residual relu",
    inputs,
    ([x, w, b, r]) => batchNorm2d(x, w, b, { training: true, residual: r, activation: "relu" }),
    ([x, w, b, r]) =>
      batchNormReference(x, shape, w, b, { training: true }).out.map((v, i) =>
        Math.max(v + r[i], 0)
      ),
    { rtol: 2e-3, atol: 2e-4 },
  );
});

gpuTest("batch_norm2d refuses bad parameters and single-value training batches", () => {
  noGrad(() => {
    const x = tensor(new Float32Array(2 * 3 * 2 * 2), [2, 3, 2, 2]);
    assert.throws(
      () => batchNorm2d(x, tensor(new Float32Array(4), [4]), undefined, { training: true }),
      /weight must be f32\[3\]/,
    );
    assert.throws(
      () =>
        batchNorm2d(tensor(new Float32Array(3), [1, 3, 1, 1]), undefined, undefined, {
          training: true,
        }),
      /more than 1 value per channel/,
    );
    assert.throws(() => batchNorm2d(x, undefined, undefined, { training: false }), /running/);
  });
});
