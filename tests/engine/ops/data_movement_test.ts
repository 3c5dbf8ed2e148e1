import assert from "node:assert/strict";
import { assertClose, gpuTest, randomData } from "../../gpu.ts";
import { gradcheck } from "../../gradcheck.ts";
import { type DType, scope, scopeAsync, tensor } from "../../../engine/tensor.ts";
import { engine } from "../../../engine/context.ts";
import { arange, oneHot } from "../../../engine/ops/iota.ts";
import { argmax, argmin } from "../../../engine/ops/argmax.ts";
import { concat, slice } from "../../../engine/ops/narrow.ts";
import { indexSelect, scatterAdd } from "../../../engine/ops/gather.ts";
import { permute, transpose } from "../../../engine/ops/permute.ts";
import { permuteReference } from "../../../kernels/index/permute.ts";
import { sliceReference } from "../../../kernels/index/narrow.ts";
import { indexSelectReference } from "../../../kernels/index/gather.ts";
import { scatterAddReference } from "../../../kernels/index/scatter_add.ts";
import { argReference } from "../../../kernels/reduce/argmax.ts";

const numel = (s: number[]) => s.reduce((a, b) => a * b, 1);

gpuTest("permute and transpose match the reference (f32 and i32, odd shapes)", async () => {
  const { simplifyPermute } = await import("../../../kernels/index/permute.ts");
  assert.deepEqual(simplifyPermute([8, 3, 5, 7], [0, 2, 3, 1]), {
    shape: [8, 3, 35],
    perm: [0, 2, 1],
  });
  assert.deepEqual(simplifyPermute([1, 4, 1, 6], [3, 1, 0, 2]), { shape: [4, 6], perm: [1, 0] });
  const cases: [number[], number[]][] = [
    [[7], [0]],
    [[33, 5], [1, 0]],
    [[2, 3, 127], [2, 0, 1]],
    [[3, 1, 4, 5], [3, 1, 0, 2]],
    [[2, 2, 3, 2, 3], [4, 3, 2, 1, 0]],
    [[3, 1, 5, 7], [0, 2, 3, 1]], // NCHW → NHWC with C = 1: merged down to a copy
    [[2, 3, 5, 7], [0, 2, 3, 1]], // H and W merge
    [[1, 1], [1, 0]],
  ];
  for (const run of [undefined, 1, 3]) { // this adapter's run length, the GPU's, an odd one
    await engine().withKernels({ permuteRun: run }, async () => {
      for (const [shape, perm] of cases) {
        const x = randomData(numel(shape), numel(shape));
        const got = await scope(() => permute(tensor(x, shape), perm)).read();
        const what = `[${shape}] [${perm}] run ${run}`;
        assert.deepEqual(Array.from(got), permuteReference(x, shape, perm), what);
        const ints = Int32Array.from(x, (v) => Math.round(v * 1e6));
        const gi = await scope(() => permute(tensor(ints, shape), perm)).read();
        assert.deepEqual(Array.from(gi), permuteReference(ints, shape, perm), `i32 ${what}`);
      }
    });
  }
  const t = await scope(() => transpose(tensor([1, 2, 3, 4, 5, 6], [2, 3]), 0, -1)).read();
  assert.deepEqual(Array.from(t), [1, 4, 2, 5, 3, 6]);
  assert.throws(() => scope(() => permute(tensor([1, 2], [1, 2]), [0, 0])), /permutation/);
});

gpuTest("concat and slice match the reference on every axis", async () => {
  const shapes = [[2, 3, 5], [2, 7, 5], [2, 1, 5]];
  const data = shapes.map((s, i) => randomData(numel(s), i + 1));
  const got = await scope(() => concat(data.map((d, i) => tensor(d, shapes[i])), 1)).read();
  const want: number[] = [];
  for (let o = 0; o < 2; o++) {
    data.forEach((d, i) => want.push(...sliceReference(d, shapes[i], 0, o, o + 1)));
  }
  assert.deepEqual(Array.from(got), want);
  // Blocks of 80 and 60 words per outer index: the 2-D block path and the per-word path.
  const p = randomData(3 * 40 * 2, 5), q = randomData(3 * 30 * 2, 6);
  const pq = await scope(() => concat([tensor(p, [3, 40, 2]), tensor(q, [3, 30, 2])], 1)).read();
  const wantPq: number[] = [];
  for (let o = 0; o < 3; o++) {
    wantPq.push(...sliceReference(p, [3, 40, 2], 0, o, o + 1));
    wantPq.push(...sliceReference(q, [3, 30, 2], 0, o, o + 1));
  }
  assert.deepEqual(Array.from(pq), wantPq);
  const a0 = await scope(() => concat([tensor([1, 2], [1, 2]), tensor([3, 4, 5, 6], [2, 2])], 0))
    .read();
  assert.deepEqual(Array.from(a0), [1, 2, 3, 4, 5, 6]);
  const last = await scope(() =>
    concat([tensor([1, 2], [2, 1], "i32"), tensor([3, 4], [2, 1], "i32")], -1)
  ).read();
  assert.deepEqual(Array.from(last), [1, 3, 2, 4]);
  assert.throws(() => scope(() => concat([tensor([1], [1, 1]), tensor([1, 2], [2, 1])], 1)));
  for (
    const [shape, axis, s, e] of [[[257], 0, 3, 130], [[4, 33, 3], 1, 1, -1], [
      [
        7,
        2,
      ],
      0,
      6,
      7,
    ]] as [number[], number, number, number][]
  ) {
    const x = randomData(numel(shape), 9);
    const got = await scope(() => slice(tensor(x, shape), axis, s, e)).read();
    const size = shape[axis];
    const want = sliceReference(x, shape, axis, s < 0 ? s + size : s, e < 0 ? e + size : e);
    assert.deepEqual(Array.from(got), want, `slice [${shape}] ${axis} ${s}:${e}`);
  }
  assert.throws(() => scope(() => slice(tensor([1, 2, 3]), 0, 2, 5)), /out of range/);
});

gpuTest("indexSelect gathers rows, columns and i32 labels; out-of-range gives 0", async () => {
  const shape = [5, 3, 7];
  const x = randomData(numel(shape), 4);
  const index = Int32Array.from([4, 0, 4, 2]);
  for (const axis of [0, 1, 2]) {
    const idx = index.map((v) => v % shape[axis]);
    const got = await scope(() => indexSelect(tensor(x, shape), axis, tensor(idx))).read();
    assert.deepEqual(Array.from(got), indexSelectReference(x, shape, axis, idx), `axis ${axis}`);
  }
  // Rows of 100 words (the row path), one index out of range.
  const wide = randomData(4 * 100, 5);
  const rows = Int32Array.from([3, 7, 0, 3]);
  const gotRows = await scope(() => indexSelect(tensor(wide, [4, 100]), 0, tensor(rows))).read();
  assert.deepEqual(Array.from(gotRows), indexSelectReference(wide, [4, 100], 0, rows));
  const labels = await scope(() =>
    indexSelect(tensor([10, 11, 12], [3], "i32"), 0, tensor([2, 2, -1, 0], [4], "i32"))
  ).read();
  assert.deepEqual(Array.from(labels), [12, 12, 0, 10]);
});

gpuTest("scatterAdd sums duplicates in index order, bit-identically across runs", async () => {
  const shape = [6, 33];
  const base = randomData(numel(shape), 1);
  const index = Int32Array.from([5, 1, 5, 5, 0, 9, 1, -2]);
  const src = randomData(index.length * 33, 2, -100, 100);
  const run = () =>
    scope(() => scatterAdd(tensor(base, shape), 0, tensor(index), tensor(src, [index.length, 33])))
      .read();
  const got = await run();
  assertClose(got, scatterAddReference(base, shape, 0, index, src), {
    rtol: 1e-6,
    atol: 1e-5,
    what: "scatterAdd",
  });
  assert.deepEqual(Array.from(await run()), Array.from(got));
  // Along the last axis.
  const b2 = randomData(12, 3), s2 = randomData(8, 4);
  const i2 = Int32Array.from([2, 2]);
  const got2 = await scope(() => scatterAdd(tensor(b2, [4, 3]), 1, tensor(i2), tensor(s2, [4, 2])))
    .read();
  assertClose(got2, scatterAddReference(b2, [4, 3], 1, i2, s2), { rtol: 1e-6, what: "axis 1" });
});

gpuTest("oneHot and arange", async () => {
  const h = await scope(() => oneHot(tensor([2, 0, 5, -1], [4], "i32"), 3)).read();
  assert.deepEqual(Array.from(h), [0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
  const ai = await scope(() => arange(5)).read();
  assert.ok(ai instanceof Int32Array);
  assert.deepEqual(Array.from(ai), [0, 1, 2, 3, 4]);
  const af = await scope(() => arange(3, "f32")).read();
  assert.ok(af instanceof Float32Array);
  assert.deepEqual(Array.from(af), [0, 1, 2]);
});

gpuTest("argmax / argmin: odd shapes, any axis, first index on ties, NaN wins", async () => {
  for (
    const [shape, axis] of [[[1], 0], [[7], 0], [[3, 257], -1], [[4, 33, 5], 1], [[127, 2], 0], [
      [2, 1000],
      1,
    ]] as [number[], number][]
  ) {
    // Few distinct values: many ties.
    const x = randomData(numel(shape), numel(shape)).map((v) => Math.round(v * 3));
    for (const op of ["argmax", "argmin"] as const) {
      const got = await scope(() => (op === "argmax" ? argmax : argmin)(tensor(x, shape), axis))
        .read();
      assert.ok(got instanceof Int32Array);
      assert.deepEqual(Array.from(got), argReference(op, x, shape, axis), `${op} [${shape}]`);
    }
  }
  // The GPU regime: many threads per row.
  await engine().withKernels({ rowThreads: 256 }, async () => {
    const x = randomData(3 * 1000, 8).map((v) => Math.round(v * 5));
    const got = await scope(() => argmax(tensor(x, [3, 1000]))).read();
    assert.deepEqual(Array.from(got), argReference("argmax", x, [3, 1000], -1), "256 threads");
  });
  const ties = await scope(() => argmax(tensor([1, 3, 3, 0, 3]))).item();
  assert.equal(ties, 1);
  const nan = await scope(() => argmax(tensor([1, NaN, 3, NaN]))).item();
  assert.equal(nan, 1);
  const nanMin = await scope(() => argmin(tensor([1, -Infinity, NaN]))).item();
  assert.equal(nanMin, 2);
  const inf = await scope(() => argmin(tensor([1, -Infinity, -Infinity]))).item();
  assert.equal(inf, 1);
});

gpuTest("data-movement gradients match finite differences", async () => {
  const x = { data: randomData(2 * 3 * 4, 1), shape: [2, 3, 4] };
  const y = { data: randomData(2 * 2 * 4, 2), shape: [2, 2, 4] };
  await gradcheck(
    "permute",
    [x],
    ([p]) => permute(p, [2, 0, 1]),
    ([p]) => permuteReference(p, [2, 3, 4], [2, 0, 1]),
  );
  await gradcheck(
    "concat",
    [x, y],
    ([p, q]) => concat([p, q], 1),
    ([p, q]) => {
      const out: number[] = [];
      for (let o = 0; o < 2; o++) {
        out.push(...sliceReference(p, [2, 3, 4], 0, o, o + 1));
        out.push(...sliceReference(q, [2, 2, 4], 0, o, o + 1));
      }
      return out;
    },
  );
  await gradcheck(
    "slice",
    [x],
    ([p]) => slice(p, 2, 1, 3),
    ([p]) => sliceReference(p, [2, 3, 4], 2, 1, 3),
  );
  const index = Int32Array.from([2, 0, 2, 2, 1]);
  await gradcheck(
    "indexSelect",
    [x],
    ([p]) => indexSelect(p, 1, tensor(index)),
    ([p]) => indexSelectReference(p, [2, 3, 4], 1, index),
  );
  const src = { data: randomData(2 * 5 * 4, 3), shape: [2, 5, 4] };
  await gradcheck(
    "scatterAdd",
    [x, src],
    ([p, q]) => scatterAdd(p, 1, tensor(index), q),
    ([p, q]) => scatterAddReference(p, [2, 3, 4], 1, index, q),
  );
});

gpuTest("a large indexSelect backward is bit-identical across runs", async () => {
  const { requireGrad } = await import("../../../engine/autograd.ts");
  const { backward } = await import("../../../engine/ops/backward.ts");
  const { sum, mul } = await import("../../../engine/ops/mod.ts");
  const index = Int32Array.from({ length: 2000 }, (_, i) => (i * 7919) % 37);
  const w = randomData(2000 * 64, 5, -10, 10);
  const once = () =>
    scopeAsync(async () => {
      const x = requireGrad(tensor(randomData(37 * 64, 6), [37, 64]));
      backward(sum(mul(indexSelect(x, 0, tensor(index)), tensor(w, [2000, 64]))));
      const g = Array.from(await x.grad!.read());
      x.grad!.dispose();
      return g;
    });
  assert.deepEqual(await once(), await once());
});

gpuTest("cast converts between f32, i32, u32, u8 and f16", async () => {
  const { cast } = await import("../../../engine/ops/cast.ts");
  const { castReference } = await import("../../../kernels/index/cast.ts");
  const floats = [0, 1.9, -1.9, 2.5, -7.5, 3e9, -3e9, 65504, 1e-3, 123456.7];
  const want = (v: number[], from: DType, to: DType) => v.map((e) => castReference(e, from, to));
  const f = tensor(floats);
  assert.deepEqual(
    Array.from(await scope(() => cast(f, "i32")).read()),
    want(floats, "f32", "i32"),
  );
  assert.deepEqual(
    Array.from(await scope(() => cast(f, "u32")).read()),
    want(floats, "f32", "u32"),
  );
  const ints = [0, 1, -1, 2 ** 31 - 1, -(2 ** 31), 16777217, 7];
  const i = tensor(ints, [7], "i32");
  assert.deepEqual(
    Array.from(await scope(() => cast(i, "f32")).read()),
    ints.map(Math.fround),
  );
  assert.deepEqual(Array.from(await scope(() => cast(i, "u32")).read()), ints.map((v) => v >>> 0));
  const u = tensor([0, 1, 4294967295, 3000000000], [4], "u32");
  assert.deepEqual(
    Array.from(await scope(() => cast(u, "f32")).read()),
    [0, 1, 4294967295, 3000000000].map(Math.fround),
  );
  assert.deepEqual(Array.from(await scope(() => cast(u, "i32")).read()), [0, 1, -1, -1294967296]);
  const bytes = [0, 1, 127, 128, 255, 9, 200]; // 7 bytes: the last word is partly padding
  const b = tensor(bytes, [7], "u8");
  assert.deepEqual(Array.from(await scope(() => cast(b, "f32")).read()), bytes);
  assert.deepEqual(Array.from(await scope(() => cast(b, "i32")).read()), bytes);
  const halves = [0, 1, -2.5, 65504, 1e-3, 0.1, 3]; // odd count: packing pads a zero
  const h = await scope(() => cast(tensor(halves), "f16")).read();
  // f16 has 11 significant bits: relative error at most 2^-11.
  assertClose(h, halves, { rtol: 2 ** -11, atol: 6e-8, what: "f32→f16" });
  const back = await scope(() => cast(cast(tensor(halves), "f16"), "f32")).read();
  assert.deepEqual(Array.from(back), Array.from(h));
  assert.throws(() => scope(() => cast(tensor([1]), "u8")), /not supported/);
  f.dispose();
  i.dispose();
  u.dispose();
  b.dispose();
});

gpuTest("training steps through data movement and norms keep live memory flat", async () => {
  const { requireGrad } = await import("../../../engine/autograd.ts");
  const { backward } = await import("../../../engine/ops/backward.ts");
  const { sum } = await import("../../../engine/ops/mod.ts");
  const { layerNorm, l2Normalize, norm } = await import("../../../engine/ops/norm.ts");
  const { keep } = await import("../../../engine/tensor.ts");
  const x = keep(requireGrad(tensor(randomData(6 * 5, 1), [6, 5])));
  const w = keep(requireGrad(tensor(randomData(5, 2))));
  const index = keep(tensor([1, 4, 1], [3], "i32"));
  const live: number[] = [];
  for (let step = 0; step < 4; step++) {
    await scopeAsync(async () => {
      const picked = indexSelect(layerNorm(x, w, undefined), 0, index);
      const both = concat([picked, slice(transpose(x, 0, 1), 1, 1, 6)], 0); // [8, 5]
      const spread = scatterAdd(x, 0, index, slice(l2Normalize(both, 1), 0, 0, 3));
      const loss = sum(norm(spread, [1]));
      backward(loss);
      await loss.item();
    });
    for (const p of [x, w]) {
      p.grad?.dispose();
      p.grad = undefined;
    }
    live.push(engine().pool.liveBytes);
  }
  assert.deepEqual(live.slice(1), [live[0], live[0], live[0]], `live bytes ${live}`);
  for (const t of [x, w, index]) t.dispose();
});
