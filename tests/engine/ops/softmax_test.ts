import assert from "node:assert/strict";
import { assertClose, gpuTest, randomData } from "../../gpu.ts";
import { gradcheck } from "../../gradcheck.ts";
import { scope, scopeAsync, tensor } from "../../../engine/tensor.ts";
import { engine } from "../../../engine/context.ts";
import { crossEntropy, kdLoss, logSoftmax, softmax } from "../../../engine/ops/softmax.ts";
import {
  crossEntropyReference,
  kdReference,
  softmaxReference,
} from "../../../kernels/softmax/softmax.ts";

/** Runs `fn` with subgroup reductions, where the adapter has them, and without. */
async function eachVariant(fn: (variant: string) => Promise<void>): Promise<void> {
  const variants = engine().gpu.features.has("subgroups") ? [true, false] : [false];
  for (const on of variants) {
    await engine().withKernels({ subgroups: on }, () => fn(on ? "subgroups" : "workgroup"));
  }
}

const CASES: [number[], number][] = [
  [[1], -1],
  [[7], 0],
  [[3, 33], -1],
  [[2, 127, 3], 1],
  [[4, 257], 1],
  [[5, 1000], -1],
  [[3, 5, 2], 0],
];

gpuTest("softmax and log-softmax match the float64 reference on odd shapes and axes", async () => {
  await eachVariant(async (variant) => {
    for (const [shape, axis] of CASES) {
      const n = shape.reduce((a, b) => a * b, 1);
      const x = randomData(n, 7 + n, -8, 8);
      for (const op of ["softmax", "log_softmax"] as const) {
        const got = await scope(() =>
          (op === "softmax" ? softmax : logSoftmax)(tensor(x, shape), axis)
        ).read();
        // f32 inputs, float64 reference: a few ulp of exp and of the log-sum.
        assertClose(got, softmaxReference(op, x, shape, axis), {
          rtol: 2e-6,
          atol: op === "softmax" ? 1e-7 : 4e-6,
          what: `${op} [${shape}] axis ${axis} (${variant})`,
        });
      }
    }
  });
});

gpuTest(
  "softmax stays finite on large magnitudes, skips -inf, and NaN poisons its row",
  async () => {
    await eachVariant(async (variant) => {
      const x = [1000, -1000, 999, -Infinity, 0, 1e30, -1e30, 1e30];
      const want = softmaxReference("softmax", x, [8]);
      const got = await scope(() => softmax(tensor(x))).read();
      assert.ok(got.every(Number.isFinite), `finite (${variant}): ${got}`);
      assertClose(got, want, { rtol: 1e-6, atol: 1e-7, what: `softmax large (${variant})` });
      const lsm = await scope(() => logSoftmax(tensor([1000, -1000, -Infinity]))).read();
      assert.deepEqual(Array.from(lsm), [0, -2000, -Infinity]);
      const nan = await scope(() => softmax(tensor([1, NaN, 2, 3, 4, 5, 6, 7, 8], [1, 9]))).read();
      assert.ok(nan.every(Number.isNaN), `NaN row (${variant}): ${nan}`);
      const posInf = await scope(() => softmax(tensor([Infinity, 1, 2, 3, 4, 5, 6, 7, 8]))).read();
      assert.ok(posInf.every(Number.isNaN), `a +inf row is NaN, as torch (${variant}): ${posInf}`);
      const allNegInf = await scope(() => softmax(tensor([-Infinity, -Infinity]))).read();
      assert.ok(allNegInf.every(Number.isNaN), "an all -inf row is NaN, as torch");
    });
  },
);

gpuTest("cross-entropy and KD loss match the float64 reference", async () => {
  await eachVariant(async (variant) => {
    for (const [b, c] of [[1, 1], [3, 7], [5, 33], [2, 257], [9, 1000]]) {
      const s = randomData(b * c, b + c, -6, 6);
      const t = randomData(b * c, 3 * b + c, -6, 6);
      const labels = Int32Array.from({ length: b }, (_, i) => (i * 5 + 3) % c);
      const ce = await scope(() => crossEntropy(tensor(s, [b, c]), tensor(labels))).item();
      assertClose([ce], [crossEntropyReference(s, labels, b, c)], {
        rtol: 2e-6,
        atol: 2e-6,
        what: `CE [${b},${c}] (${variant})`,
      });
      for (const temp of [1, 2, 4.5]) {
        const kd = await scope(() => kdLoss(tensor(s, [b, c]), tensor(t, [b, c]), temp)).item();
        assertClose([kd], [kdReference(s, t, b, c, temp)], {
          rtol: 1e-5,
          atol: 1e-6,
          what: `KD [${b},${c}] T=${temp} (${variant})`,
        });
      }
    }
  });
});

gpuTest(
  "KD loss: identical distributions give 0, -inf teacher logits count 0, large logits",
  async () => {
    await eachVariant(async (variant) => {
      const s = [1000, -1000, 3, 999, 5, -2, 0, 1];
      const shifted = s.map((v) => v + 250); // same softmax, so KL = 0
      const zero = await scope(() => kdLoss(tensor(s, [2, 4]), tensor(shifted, [2, 4]), 2)).item();
      assert.ok(Math.abs(zero) < 1e-4, `KL of equal distributions (${variant}): ${zero}`);
      const t = [-Infinity, 2, 1, -Infinity, 0.5, -1, 3, 2];
      const got = await scope(() => kdLoss(tensor(s, [2, 4]), tensor(t, [2, 4]), 2)).item();
      assertClose([got], [kdReference(s, t, 2, 4, 2)], {
        rtol: 1e-5,
        what: `KD -inf (${variant})`,
      });
    });
  },
);

gpuTest("the losses' vec4 rows match the float64 reference and gradients", async () => {
  // C a multiple of 4 (the vec4 kernels' domain; the f32 kernels are the other cases' and run
  // where C is not) at odd B, several vec4s per thread or fewer than one per thread; a -inf
  // teacher logit; labels in every column position mod 4.
  await engine().withKernels({ rowVec4: true }, () =>
    eachVariant(async (variant) => {
      const what = `vec4 ${variant}`;
      for (const [b, c] of [[1, 4], [3, 12], [7, 36], [5, 1004]]) {
        const s = randomData(b * c, 7 * b + c, -6, 6);
        const t = randomData(b * c, 5 * b + c, -6, 6);
        t[c - 1] = -Infinity;
        const labels = Int32Array.from({ length: b }, (_, i) => (i * 5 + 2) % c);
        const ce = await scope(() => crossEntropy(tensor(s, [b, c]), tensor(labels))).item();
        assertClose([ce], [crossEntropyReference(s, labels, b, c)], {
          rtol: 2e-6,
          atol: 2e-6,
          what: `CE [${b},${c}] (${what})`,
        });
        for (const temp of [1, 4.5]) {
          const kd = await scope(() => kdLoss(tensor(s, [b, c]), tensor(t, [b, c]), temp))
            .item();
          assertClose([kd], [kdReference(s, t, b, c, temp)], {
            rtol: 1e-5,
            atol: 1e-6,
            what: `KD [${b},${c}] T=${temp} (${what})`,
          });
        }
      }
      const [b, c] = [3, 8];
      const labels = Int32Array.from([7, 0, 5]);
      const s = { data: randomData(b * c, 41, -3, 3), shape: [b, c] };
      const t = { data: randomData(b * c, 42, -3, 3), shape: [b, c], grad: false };
      await gradcheck(
        `crossEntropy (${what})`,
        [s],
        ([p]) => crossEntropy(p, tensor(labels)),
        ([p]) => [crossEntropyReference(p, labels, b, c)],
      );
      await gradcheck(
        `kdLoss (${what})`,
        [s, t],
        ([p, q]) => kdLoss(p, q, 2),
        ([p, q]) => [kdReference(p, q, b, c, 2)],
      );
    }));
});

gpuTest("a label outside [0, C) makes the cross-entropy NaN", async () => {
  const ce = await scope(() =>
    crossEntropy(tensor([1, 2, 3, 4], [2, 2]), tensor([0, 2], [2], "i32"))
  )
    .item();
  assert.ok(Number.isNaN(ce));
  // The vec4 kernel (C = 4): a label of C or -1.
  for (const bad of [4, -1]) {
    const ce4 = await scope(() =>
      crossEntropy(tensor([1, 2, 3, 4, 5, 6, 7, 8], [2, 4]), tensor([0, bad], [2], "i32"))
    ).item();
    assert.ok(Number.isNaN(ce4), `label ${bad}: ${ce4}`);
  }
});

gpuTest("softmax family gradients match finite differences", async () => {
  await eachVariant(async () => {
    for (const [shape, axis] of [[[3, 7], -1], [[4, 3, 5], 1], [[33], 0]] as [number[], number][]) {
      const n = shape.reduce((a, b) => a * b, 1);
      const x = { data: randomData(n, n, -3, 3), shape };
      await gradcheck(
        `softmax [${shape}] axis ${axis}`,
        [x],
        ([p]) => softmax(p, axis),
        ([p]) => softmaxReference("softmax", p, shape, axis),
      );
      await gradcheck(
        `logSoftmax [${shape}] axis ${axis}`,
        [x],
        ([p]) => logSoftmax(p, axis),
        ([p]) => softmaxReference("log_softmax", p, shape, axis),
      );
    }
    const [b, c] = [5, 7];
    const labels = Int32Array.from([0, 6, 3, 3, 1]);
    const s = { data: randomData(b * c, 21, -3, 3), shape: [b, c] };
    const t = { data: randomData(b * c, 22, -3, 3), shape: [b, c], grad: false };
    await gradcheck(
      "crossEntropy",
      [s],
      ([p]) => crossEntropy(p, tensor(labels)),
      ([p]) => [crossEntropyReference(p, labels, b, c)],
    );
    await gradcheck(
      "kdLoss",
      [s, t],
      ([p, q]) => kdLoss(p, q, 2),
      ([p, q]) => [kdReference(p, q, b, c, 2)],
    );
  });
});

gpuTest("the teacher receives no gradient from the KD loss", async () => {
  const { requireGrad } = await import("../../../engine/autograd.ts");
  const { backward } = await import("../../../engine/ops/backward.ts");
  await scopeAsync(async () => {
    const s = requireGrad(tensor(randomData(6, 1), [2, 3]));
    const t = requireGrad(tensor(randomData(6, 2), [2, 3]));
    backward(kdLoss(s, t, 2));
    assert.ok(s.grad, "student has a gradient");
    assert.equal(t.grad, undefined);
    const g = await s.grad!.read();
    // Each row of (p_s − p_t) sums to 0.
    assert.ok(Math.abs(g[0] + g[1] + g[2]) < 1e-7);
    s.grad!.dispose();
  });
});

gpuTest("softmax family results are bit-identical across runs", async () => {
  await eachVariant(async (variant) => {
    const [b, c] = [64, 1000];
    const s = randomData(b * c, 5, -10, 10);
    const t = randomData(b * c, 6, -10, 10);
    const once = () =>
      scopeAsync(async () => {
        const st = tensor(s, [b, c]);
        return [
          await kdLoss(st, tensor(t, [b, c]), 2).item(),
          await crossEntropy(st, tensor(new Int32Array(b).fill(3))).item(),
          Array.from(await softmax(st).read()),
        ];
      });
    assert.deepEqual(await once(), await once(), `bit-identical (${variant})`);
  });
});

gpuTest("the subgroup and tree variants agree", async () => {
  const x = randomData(3 * 1000, 9, -20, 20);
  const run = (on: boolean) =>
    engine().withKernels(
      { subgroups: on },
      () => scope(() => softmax(tensor(x, [3, 1000]))).read(),
    );
  assertClose(await run(true), await run(false), { rtol: 1e-6, atol: 1e-9, what: "variants" });
}, { features: ["subgroups"] });

gpuTest("GPU-sized workgroups (256 threads per row) give the same results", async () => {
  // kd_forward exercises wg_max and wg_sum2, batch_mean wg_sum: every reduction at 256 threads
  // (several subgroups), with few extra pipelines to compile.
  const [b, c] = [3, 1000];
  const s = randomData(b * c, 31, -8, 8);
  const t = randomData(b * c, 32, -8, 8);
  await engine().withKernels({ rowThreads: 256 }, async () => {
    await eachVariant(async (variant) => {
      const what = `256 threads (${variant})`;
      const sm = await scope(() => softmax(tensor(s, [b, c]))).read();
      assertClose(sm, softmaxReference("softmax", s, [b, c]), { rtol: 2e-6, atol: 1e-9, what });
      const kd = await scope(() => kdLoss(tensor(s, [b, c]), tensor(t, [b, c]), 2)).item();
      assertClose([kd], [kdReference(s, t, b, c, 2)], { rtol: 1e-5, what });
      const x = { data: randomData(2 * 300, 3, -3, 3), shape: [2, 300] };
      await gradcheck(
        `kdLoss ${what}`,
        [x, { ...x, data: randomData(600, 4, -3, 3), grad: false }],
        ([p, q]) => kdLoss(p, q, 2),
        ([p, q]) => [kdReference(p, q, 2, 300, 2)],
      );
    });
  });
});

gpuTest("training steps through the softmax family keep live memory flat", async () => {
  const { requireGrad } = await import("../../../engine/autograd.ts");
  const { backward } = await import("../../../engine/ops/backward.ts");
  const { add, sum } = await import("../../../engine/ops/mod.ts");
  const { keep } = await import("../../../engine/tensor.ts");
  const s = keep(requireGrad(tensor(randomData(8 * 33, 1), [8, 33])));
  const t = keep(tensor(randomData(8 * 33, 2), [8, 33]));
  const y = keep(tensor(Int32Array.from({ length: 8 }, (_, i) => i)));
  const live: number[] = [];
  for (let step = 0; step < 4; step++) {
    await scopeAsync(async () => {
      const loss = add(add(kdLoss(s, t, 2), crossEntropy(s, y)), sum(logSoftmax(softmax(s))));
      backward(loss);
      await loss.item();
    });
    s.grad?.dispose();
    s.grad = undefined;
    live.push(engine().pool.liveBytes);
  }
  assert.deepEqual(live.slice(1), [live[0], live[0], live[0]], `live bytes ${live}`);
  for (const x of [s, t, y]) x.dispose();
});

gpuTest("more than 65,535 rows fold the row grid into two dimensions", async () => {
  const { argmax } = await import("../../../engine/ops/argmax.ts");
  const { argReference } = await import("../../../kernels/reduce/argmax.ts");
  const rows = 70001;
  const x = randomData(rows * 2, 12, -5, 5);
  const got = await scope(() => logSoftmax(tensor(x, [rows, 2]))).read();
  assertClose(got, softmaxReference("log_softmax", x, [rows, 2]), {
    rtol: 2e-6,
    atol: 4e-6,
    what: "logSoftmax [70001, 2]",
  });
  const idx = await scope(() => argmax(tensor(x, [rows, 2]))).read();
  assert.deepEqual(Array.from(idx), argReference("argmax", x, [rows, 2], -1));
  const labels = Int32Array.from({ length: rows }, (_, i) => i % 2);
  const ce = await scope(() => crossEntropy(tensor(x, [rows, 2]), tensor(labels))).item();
  assertClose([ce], [crossEntropyReference(x, labels, rows, 2)], { rtol: 1e-5, what: "CE" });
});
