import assert from "node:assert/strict";
import { assertClose, gpuTest, randomData } from "../../gpu.ts";
import { Linear } from "../../../engine/nn/linear.ts";
import { LayerNorm } from "../../../engine/nn/layer_norm.ts";
import { Embedding } from "../../../engine/nn/embedding.ts";
import { Rng } from "../../../engine/rng.ts";
import { scopeAsync, tensor } from "../../../engine/tensor.ts";

gpuTest("Linear: PyTorch init bound 1/√in, seeded, y = x·Wᵀ + b over batch dims", async () => {
  const lin = new Linear(20, 3, { rng: Rng.fromSeed(9) });
  const again = new Linear(20, 3, { rng: Rng.fromSeed(9) });
  assert.deepEqual([...lin.stateDict().keys()], ["weight", "bias"]);
  const w = (await lin.weight.read()) as Float32Array;
  const b = (await lin.bias!.read()) as Float32Array;
  assert.deepEqual(w, await again.weight.read());
  const bound = 1 / Math.sqrt(20);
  for (const v of [...w, ...b]) assert.ok(Math.abs(v) <= bound);
  // U(−a, a) has variance a²/3: 60 draws land within a loose band of it.
  const variance = w.reduce((s, v) => s + v * v, 0) / w.length;
  assert.ok(variance > 0.5 * bound ** 2 / 3 && variance < 1.5 * bound ** 2 / 3, `${variance}`);
  const x = randomData(2 * 4 * 20, 3);
  await scopeAsync(async () => {
    const y = lin.forward(tensor(x, [2, 4, 20]));
    assert.deepEqual(y.shape, [2, 4, 3]);
    const ref = new Float64Array(24);
    for (let r = 0; r < 8; r++) {
      for (let o = 0; o < 3; o++) {
        ref[r * 3 + o] = b[o];
        for (let i = 0; i < 20; i++) ref[r * 3 + o] += x[r * 20 + i] * w[o * 20 + i];
      }
    }
    assertClose(await y.read(), ref, { rtol: 1e-5, atol: 1e-6 });
    const noBias = new Linear(20, 3, { bias: false });
    assert.deepEqual([...noBias.stateDict().keys()], ["weight"]);
    assert.ok((await noBias.weight.read()).every((v) => v === 0), "zeros without an rng");
    noBias.dispose();
  });
  lin.dispose();
  again.dispose();
});

gpuTest("LayerNorm over one and over two trailing dims; bad shapes throw", async () => {
  const x = randomData(3 * 2 * 4, 5, -2, 2);
  const ref = (groups: number, n: number, w: Float32Array, b: Float32Array) => {
    const out = new Float64Array(groups * n);
    for (let g = 0; g < groups; g++) {
      const row = x.subarray(g * n, (g + 1) * n);
      const mean = row.reduce((s, v) => s + v, 0) / n;
      const variance = row.reduce((s, v) => s + (v - mean) ** 2, 0) / n;
      for (let i = 0; i < n; i++) {
        out[g * n + i] = ((row[i] - mean) / Math.sqrt(variance + 1e-5)) * w[i] + b[i];
      }
    }
    return out;
  };
  await scopeAsync(async () => {
    for (const shape of [[4], [2, 4]]) {
      const ln = new LayerNorm(shape);
      const n = shape.reduce((a, c) => a * c, 1);
      const w = randomData(n, 6, 0.5, 1.5), b = randomData(n, 7);
      ln.loadStateDict(
        new Map([["weight", tensor(w, shape)], ["bias", tensor(b, shape)]]),
      );
      const y = ln.forward(tensor(x, [3, 2, 4]));
      assertClose(await y.read(), ref(24 / n, n, w, b), { rtol: 1e-5, atol: 1e-5 });
      assert.throws(() => ln.forward(tensor(x, [3, 8])), /does not end in/);
      ln.dispose();
    }
  });
});

gpuTest("Embedding module: N(0, 1) init from the Rng, lookup by i32 ids", async () => {
  const emb = new Embedding(50, 4, { rng: Rng.fromSeed(2) });
  const w = (await emb.weight.read()) as Float32Array;
  const variance = w.reduce((s, v) => s + v * v, 0) / w.length;
  assert.ok(variance > 0.7 && variance < 1.3, `${variance}`);
  await scopeAsync(async () => {
    const y = await emb.forward(tensor(Int32Array.from([49, 0, 7]), [1, 3])).read();
    assert.deepEqual([...y], [...w.slice(196, 200), ...w.slice(0, 4), ...w.slice(28, 32)]);
  });
  emb.dispose();
});
