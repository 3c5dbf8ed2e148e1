import assert from "node:assert/strict";
import { gpuTest } from "../gpu.ts";
import { gradcheck } from "../gradcheck.ts";
import * as op from "../../engine/ops/mod.ts";
import { keep, scope, tensor } from "../../engine/tensor.ts";
import { noGrad, requireGrad } from "../../engine/autograd.ts";
import { engine } from "../../engine/context.ts";
import { randomData } from "../gpu.ts";
import { erf } from "../../kernels/erf.ts";

const x = (n: number, seed: number, lo = -2, hi = 2) => randomData(n, seed, lo, hi);

gpuTest("elementwise gradients match finite differences of a float64 reference", async () => {
  const a = { data: x(12, 1), shape: [3, 4] };
  const b = { data: x(4, 2, 0.5, 2), shape: [4] };
  await gradcheck(
    "add",
    [a, b],
    ([p, q]) => op.add(p, q),
    ([p, q]) => p.map((v, i) => v + q[i % 4]),
  );
  await gradcheck(
    "sub",
    [a, b],
    ([p, q]) => op.sub(p, q),
    ([p, q]) => p.map((v, i) => v - q[i % 4]),
  );
  await gradcheck(
    "mul",
    [a, b],
    ([p, q]) => op.mul(p, q),
    ([p, q]) => p.map((v, i) => v * q[i % 4]),
  );
  await gradcheck(
    "div",
    [a, b],
    ([p, q]) => op.div(p, q),
    ([p, q]) => p.map((v, i) => v / q[i % 4]),
  );
  await gradcheck("exp", [a], ([p]) => op.exp(p), ([p]) => p.map(Math.exp));
  await gradcheck("tanh", [a], ([p]) => op.tanh(p), ([p]) => p.map(Math.tanh));
  await gradcheck(
    "sigmoid",
    [a],
    ([p]) => op.sigmoid(p),
    ([p]) => p.map((v) => 1 / (1 + Math.exp(-v))),
  );
  await gradcheck(
    "quick_gelu",
    [a],
    ([p]) => op.quickGelu(p),
    ([p]) => p.map((v) => v / (1 + Math.exp(-1.702 * v))),
  );
  await gradcheck(
    "gelu",
    [a],
    ([p]) => op.gelu(p),
    ([p]) => p.map((v) => 0.5 * v * (1 + erf(v / Math.SQRT2))),
  );
  const pos = { data: x(12, 3, 0.5, 3), shape: [3, 4] };
  await gradcheck("log", [pos], ([p]) => op.log(p), ([p]) => p.map(Math.log));
  await gradcheck("sqrt", [pos], ([p]) => op.sqrt(p), ([p]) => p.map(Math.sqrt));
  await gradcheck("rsqrt", [pos], ([p]) => op.rsqrt(p), ([p]) => p.map((v) => 1 / Math.sqrt(v)));
  // relu/relu6/clamp/abs away from their kinks (finite differences are undefined there).
  const off = { data: x(12, 4).map((v) => (Math.abs(v) < 0.1 ? v + 0.3 : v)), shape: [3, 4] };
  await gradcheck("relu", [off], ([p]) => op.relu(p), ([p]) => p.map((v) => Math.max(v, 0)));
  await gradcheck("abs", [off], ([p]) => op.abs(p), ([p]) => p.map(Math.abs));
  await gradcheck(
    "clamp",
    [off],
    ([p]) => op.clamp(p, -1, 1),
    ([p]) => p.map((v) => Math.min(Math.max(v, -1), 1)),
  );
});

gpuTest("reduction gradients (sum, mean, max over axes)", async () => {
  const a = { data: x(2 * 3 * 5, 7), shape: [2, 3, 5] };
  await gradcheck("sum(1)", [a], ([p]) => op.sum(p, [1]), ([p]) => {
    const o = new Float64Array(10);
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < 3; j++) {
        for (let k = 0; k < 5; k++) o[i * 5 + k] += p[i * 15 + j * 5 + k];
      }
    }
    return o;
  });
  await gradcheck("mean(0,2)", [a], ([p]) => op.mean(p, [0, 2]), ([p]) => {
    const o = new Float64Array(3);
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < 3; j++) for (let k = 0; k < 5; k++) o[j] += p[i * 15 + j * 5 + k] / 10;
    }
    return o;
  });
  await gradcheck("max(2)", [a], ([p]) => op.max(p, [2]), ([p]) => {
    const o = new Float64Array(6).fill(-Infinity);
    for (let r = 0; r < 6; r++) for (let k = 0; k < 5; k++) o[r] = Math.max(o[r], p[r * 5 + k]);
    return o;
  });
});

gpuTest("gradients accumulate over two backward passes; noGrad records nothing", async () => {
  const w = keep(requireGrad(tensor([1, 2, 3])));
  for (let i = 0; i < 2; i++) scope(() => op.backward(op.sum(op.mul(w, tensor([2, 2, 2])))));
  assert.deepEqual(await w.grad!.toArray(), [4, 4, 4]);
  const y = noGrad(() => op.mul(w, w));
  assert.equal(y.node, undefined);
  y.dispose();
  w.dispose();
});

gpuTest(
  "memory: 1,000 allocate/free cycles and a training-like step leave live bytes flat",
  async () => {
    const e = engine();
    await e.sync();
    const before = e.pool.liveBytes;
    for (let i = 0; i < 1000; i++) scope(() => void op.add(tensor([1, 2, 3]), tensor([4, 5, 6])));
    await e.sync();
    assert.equal(e.pool.liveBytes, before);
    const allocated = e.pool.allocatedBytes;
    const w = keep(requireGrad(tensor(randomData(64, 5), [8, 8])));
    for (let i = 0; i < 20; i++) {
      scope(() => {
        const loss = op.sum(op.square(op.tanh(op.mul(w, tensor(randomData(64, i), [8, 8])))));
        op.backward(loss);
      });
      w.grad?.dispose();
      w.grad = undefined;
    }
    await e.sync();
    assert.equal(e.pool.liveBytes, before + w.byteLength);
    // Steady state reuses pooled buffers instead of allocating new ones every step.
    assert.ok(e.pool.allocatedBytes - allocated < 64 * 1024, "pool reuse");
    w.dispose();
  },
);
