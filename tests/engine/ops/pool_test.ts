/**
 * Pooling: max/avg/adaptive-avg forward against float64 references on odd shapes (stride 2 on
 * odd sizes, padding, dilation 2, ceil_mode, count_include_pad both ways, non-dividing adaptive
 * windows, global pooling), NaN propagation, and finite-difference gradient checks.
 */
import assert from "node:assert/strict";
import { assertClose, gpuTest, randomData } from "../../gpu.ts";
import { gradcheck } from "../../gradcheck.ts";
import {
  adaptiveAvgPool2d,
  avgPool2d,
  maxPool2d,
  type PoolOptions,
} from "../../../engine/ops/pool.ts";
import { scopeAsync, tensor } from "../../../engine/tensor.ts";
import { noGrad } from "../../../engine/autograd.ts";
import {
  adaptiveAvgPoolReference,
  poolReference,
  type PoolWindow,
} from "../../../kernels/pool/pool.ts";

const size = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);

interface Case {
  name: string;
  shape: number[];
  kernel: [number, number];
  opts: PoolOptions;
}

const CASES: Case[] = [
  {
    name: "3x3 s2 p1 (ResNet stem)",
    shape: [2, 3, 7, 9],
    kernel: [3, 3],
    opts: { stride: 2, padding: 1 },
  },
  { name: "2x2 default stride", shape: [1, 5, 6, 5], kernel: [2, 2], opts: {} },
  {
    name: "dilation 2",
    shape: [2, 2, 9, 8],
    kernel: [3, 2],
    opts: { stride: [2, 1], dilation: 2 },
  },
  {
    name: "ceil_mode",
    shape: [1, 3, 8, 7],
    kernel: [3, 3],
    opts: { stride: 2, padding: 1, ceilMode: true },
  },
  {
    name: "no pad count",
    shape: [2, 3, 5, 7],
    kernel: [3, 3],
    opts: { stride: 2, padding: 1, countIncludePad: false, ceilMode: true },
  },
];

function window(c: Case): PoolWindow {
  const p = (v: number | readonly [number, number] | undefined, d: [number, number]) =>
    v === undefined
      ? d
      : typeof v === "number"
      ? [v, v] as [number, number]
      : [v[0], v[1]] as [number, number];
  return {
    kernel: c.kernel,
    stride: p(c.opts.stride, c.kernel),
    padding: p(c.opts.padding, [0, 0]),
    dilation: p(c.opts.dilation, [1, 1]),
    ceilMode: c.opts.ceilMode ?? false,
    countIncludePad: c.opts.countIncludePad ?? true,
  };
}

gpuTest("max_pool2d and avg_pool2d forward match the float64 reference", async () => {
  let seed = 1;
  for (const c of CASES) {
    const xd = randomData(size(c.shape), seed++);
    for (const mode of ["max", "avg"] as const) {
      if (mode === "avg" && c.opts.dilation) continue;
      const ref = poolReference(mode, xd, c.shape, window(c));
      const got = await scopeAsync(async () => {
        const y = noGrad(() =>
          (mode === "max" ? maxPool2d : avgPool2d)(tensor(xd, c.shape), c.kernel, c.opts)
        );
        assert.deepEqual(y.shape, ref.shape, `${mode} ${c.name}`);
        return await y.read();
      });
      assertClose(got, ref.out, { rtol: 1e-6, atol: 1e-6, what: `${mode} ${c.name}` });
    }
  }
});

gpuTest("adaptive_avg_pool2d forward: non-dividing windows and global pooling", async () => {
  const shape = [2, 3, 7, 5];
  const xd = randomData(size(shape), 9);
  for (const out of [[3, 2], [1, 1], [7, 5], [4, 4]] as [number, number][]) {
    const ref = adaptiveAvgPoolReference(xd, shape, out);
    const got = await scopeAsync(() =>
      noGrad(() => adaptiveAvgPool2d(tensor(xd, shape), out)).read()
    );
    assertClose(got, ref, { rtol: 1e-6, atol: 1e-6, what: `adaptive ${out}` });
  }
});

gpuTest("max_pool2d propagates NaN", async () => {
  const xd = randomData(16, 3);
  xd[5] = NaN;
  const got = await scopeAsync(() => noGrad(() => maxPool2d(tensor(xd, [1, 1, 4, 4]), 2)).read());
  assert.ok(Number.isNaN(got[0]));
  assert.ok(!Number.isNaN(got[1]) && !Number.isNaN(got[2]) && !Number.isNaN(got[3]));
});

gpuTest("pooling gradients match finite differences", async () => {
  let seed = 20;
  for (const c of CASES) {
    const data = randomData(size(c.shape), seed++);
    await gradcheck(
      `max ${c.name}`,
      [{ data, shape: c.shape }],
      ([x]) => maxPool2d(x, c.kernel, c.opts),
      ([x]) => poolReference("max", x, c.shape, window(c)).out,
    );
    if (c.opts.dilation) continue;
    await gradcheck(
      `avg ${c.name}`,
      [{ data, shape: c.shape }],
      ([x]) => avgPool2d(x, c.kernel, c.opts),
      ([x]) => poolReference("avg", x, c.shape, window(c)).out,
    );
  }
  const shape = [2, 3, 7, 5];
  for (const out of [[3, 2], [1, 1]] as [number, number][]) {
    await gradcheck(
      `adaptive ${out}`,
      [{ data: randomData(size(shape), seed++), shape }],
      ([x]) => adaptiveAvgPool2d(x, out),
      ([x]) => adaptiveAvgPoolReference(x, shape, out),
    );
  }
});

gpuTest("pooling refuses bad windows", () => {
  noGrad(() => {
    const x = tensor(new Float32Array(2 * 3 * 4 * 4), [2, 3, 4, 4]);
    assert.throws(() => maxPool2d(x, 3, { padding: 2 }), /at most half the kernel/);
    assert.throws(() => avgPool2d(x, 3, { dilation: 2 }), /dilation is not supported/);
    assert.throws(() => maxPool2d(x, 5), /larger than input/);
  });
});
