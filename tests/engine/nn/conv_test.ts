/** Conv2d / BatchNorm2d modules: init, names, BatchNorm folding in eval, batch chunking. */
import assert from "node:assert/strict";
import { assertClose, gpuTest, randomData } from "../../gpu.ts";
import { BatchNorm2d, Conv2d, convBn, inBatchChunks } from "../../../engine/nn/conv.ts";
import { engine } from "../../../engine/context.ts";
import { noGrad } from "../../../engine/autograd.ts";
import { scopeAsync, tensor } from "../../../engine/tensor.ts";
import { Rng } from "../../../engine/rng.ts";
import { scale } from "../../../engine/ops/elementwise.ts";

gpuTest(
  "Conv2d init: torchvision's kaiming_normal(fan_out) and PyTorch's default bound",
  async () => {
    const k = new Conv2d(16, 32, 3, { init: "kaiming_normal_fan_out", rng: Rng.fromSeed(3) });
    const d = new Conv2d(16, 32, 3, { bias: true, rng: Rng.fromSeed(4) });
    try {
      const w = (await k.weight.read()) as Float32Array;
      const std = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
      assert.ok(Math.abs(std / Math.sqrt(2 / (32 * 9)) - 1) < 0.05, `std ${std}`);
      const bound = 1 / Math.sqrt(16 * 9);
      const dw = await d.weight.read(), db = await d.bias!.read();
      assert.ok([...dw, ...db].every((v) => Math.abs(v) <= bound));
      assert.ok(Math.max(...dw) > 0.9 * bound, "fills the range");
      assert.deepEqual(d.namedParameters().map(([n, t]) => `${n} [${t.shape}]`), [
        "weight [32,16,3,3]",
        "bias [32]",
      ]);
    } finally {
      k.dispose();
      d.dispose();
    }
  },
);

gpuTest("convBn folds BatchNorm into the convolution in eval mode (same result)", async () => {
  // Cin 5 folds into PyTorch's layout for conv2dNhwc; Cin 8 into the packed conv2d_packed path.
  for (const cin of [5, 8]) {
    const conv = new Conv2d(cin, 6, 3, { padding: 1, bias: true, rng: Rng.fromSeed(5) });
    const bn = new BatchNorm2d(6);
    bn.loadStateDict(
      new Map([
        ["weight", { dtype: "f32", shape: [6], data: randomData(6, 1, 0.5, 1.5) }],
        ["bias", { dtype: "f32", shape: [6], data: randomData(6, 2) }],
        ["running_mean", { dtype: "f32", shape: [6], data: randomData(6, 3) }],
        ["running_var", { dtype: "f32", shape: [6], data: randomData(6, 4, 0.5, 2) }],
        ["num_batches_tracked", { dtype: "i32", shape: [], data: new Int32Array([1]) }],
      ]),
    );
    bn.eval();
    try {
      const xd = randomData(2 * 7 * 5 * cin, 9);
      const [folded, unfolded] = await scopeAsync(async () => {
        const x = tensor(xd, [2, 7, 5, cin]);
        const r = tensor(randomData(2 * 7 * 5 * 6, 10), [2, 7, 5, 6]);
        const a = noGrad(() => convBn(x, conv, bn, { residual: r, activation: "relu" }));
        // With gradients recorded the pair runs unfolded.
        const b = convBn(x, conv, bn, { residual: r, activation: "relu" });
        return [await a.read(), await b.read()];
      });
      assert.ok(unfolded.some((v) => v === 0) && unfolded.some((v) => v > 0));
      assertClose(folded, unfolded, { rtol: 1e-5, atol: 1e-5, what: `Cin ${cin} folded` });
    } finally {
      conv.dispose();
      bn.dispose();
    }
  }
});

gpuTest(
  "inBatchChunks splits a batch past the binding limit, and refuses in training",
  async () => {
    const limit = engine().gpu.limits.maxStorageBufferBindingSize;
    const xd = randomData(5 * 3, 11);
    const got = await scopeAsync(() =>
      noGrad(() => inBatchChunks(tensor(xd, [5, 3]), limit / 2, false, (xs) => scale(xs, 2))).read()
    );
    assertClose(got, xd.map((v) => 2 * v), { rtol: 0, atol: 0, what: "chunks of 2, 2, 1" });
    noGrad(() => {
      const x = tensor(xd, [5, 3]);
      assert.throws(() => inBatchChunks(x, limit / 2, true, (xs) => xs), /at most 2 images/);
      x.dispose();
    });
  },
);
