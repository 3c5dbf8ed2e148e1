/**
 * conv2d (implicit GEMM and depthwise kernels): forward against the float64 reference on odd
 * shapes (stride 2 on odd sizes, dilation 2, groups, groups = channels, channel counts that are
 * not multiples of 4, several workgroups along channels and pixels), fused epilogues, and
 * finite-difference gradient checks of input, weight, bias and residual.
 */
import assert from "node:assert/strict";
import { assertClose, gpuTest, randomData } from "../../gpu.ts";
import { gradcheck, type GradInput } from "../../gradcheck.ts";
import { conv2d, conv2dNhwc } from "../../../engine/ops/conv.ts";
import type { Conv2dOptions } from "../../../engine/ops/conv_geometry.ts";
import { permute } from "../../../engine/ops/permute.ts";
import { scopeAsync, tensor } from "../../../engine/tensor.ts";
import { noGrad } from "../../../engine/autograd.ts";
import { conv2dReference } from "../../../kernels/conv/conv2d.ts";

interface Case {
  name: string;
  x: [number, number, number, number]; // NCHW
  w: [number, number, number, number];
  stride?: [number, number];
  padding?: [number, number];
  dilation?: [number, number];
  groups?: number;
  hasBias?: boolean;
}

const CASES: Case[] = [
  {
    name: "3x3 stride 2, odd sizes",
    x: [2, 3, 7, 5],
    w: [5, 3, 3, 3],
    stride: [2, 2],
    padding: [1, 1],
    hasBias: true,
  },
  {
    name: "dilation 2, asymmetric",
    x: [1, 4, 9, 8],
    w: [6, 4, 3, 2],
    padding: [2, 1],
    dilation: [2, 2],
  },
  { name: "groups 3", x: [2, 6, 5, 5], w: [9, 2, 3, 3], padding: [1, 1], groups: 3, hasBias: true },
  {
    name: "depthwise stride 2",
    x: [2, 5, 7, 7],
    w: [5, 1, 3, 3],
    stride: [2, 2],
    padding: [1, 1],
    groups: 5,
  },
  {
    name: "depthwise dilation 2",
    x: [1, 6, 6, 7],
    w: [6, 1, 3, 3],
    padding: [2, 2],
    dilation: [2, 2],
    groups: 6,
    hasBias: true,
  },
  { name: "1x1 stride 2", x: [3, 7, 5, 5], w: [10, 7, 1, 1], stride: [2, 2] },
  { name: "7x7 stem-like", x: [1, 3, 11, 11], w: [8, 3, 7, 7], stride: [2, 2], padding: [3, 3] },
];

function ref(c: Case, x: ArrayLike<number>, w: ArrayLike<number>, b?: ArrayLike<number>) {
  return conv2dReference(x, c.x, w, c.w, b, c);
}

const size = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);

gpuTest("conv2d forward matches the float64 reference on odd shapes", async () => {
  let seed = 10;
  const more: Case[] = [
    // More channels than one workgroup covers (16 invocations · 8 channels), pixels not a
    // multiple of the pixel tile, Cout not a multiple of 4.
    { name: "wide", x: [2, 37, 5, 6], w: [150, 37, 3, 3], padding: [1, 1], hasBias: true },
    { name: "wide depthwise", x: [1, 70, 5, 3], w: [70, 1, 3, 3], padding: [1, 1], groups: 70 },
  ];
  for (const c of [...CASES, ...more]) {
    const xd = randomData(size(c.x), seed++), wd = randomData(size(c.w), seed++);
    const bd = c.hasBias ? randomData(c.w[0], seed++) : undefined;
    const expected = ref(c, xd, wd, bd);
    const got = await scopeAsync(async () => {
      const y = noGrad(() =>
        conv2d(tensor(xd, c.x), tensor(wd, c.w), bd && tensor(bd, [c.w[0]]), c)
      );
      assert.deepEqual(y.shape, expected.shape, c.name);
      return await y.read();
    });
    assertClose(got, expected.out, { rtol: 1e-4, atol: 1e-5, what: c.name });
  }
});

gpuTest("conv2d epilogue: bias + residual + relu / relu6 fused", async () => {
  const c: Case = { name: "epilogue", x: [2, 5, 6, 5], w: [7, 5, 3, 3], padding: [1, 1] };
  const xd = randomData(size(c.x), 1), wd = randomData(size(c.w), 2), bd = randomData(7, 3);
  const base = ref(c, xd, wd, bd);
  const rd = randomData(base.out.length, 4);
  for (const act of ["relu", "relu6"] as const) {
    const hi = act === "relu" ? Infinity : 6;
    // Scale so relu6 clips above 6 for some elements.
    const expected = base.out.map((v, i) => Math.min(Math.max(4 * v + rd[i], 0), hi));
    const got = await scopeAsync(async () => {
      const w4 = tensor(wd.map((v) => 4 * v), c.w);
      const y = noGrad(() =>
        conv2d(tensor(xd, c.x), w4, tensor(bd.map((v) => 4 * v), [7]), {
          ...c,
          residual: tensor(rd, base.shape),
          activation: act,
        })
      );
      return await y.read();
    });
    assert.ok(expected.some((v) => v === 0) && expected.some((v) => v > 0), "mask exercised");
    assertClose(got, expected, { rtol: 1e-4, atol: 1e-5, what: `epilogue ${act}` });
  }
});

gpuTest("conv2d gradients (input, weight, bias) match finite differences", async () => {
  let seed = 100;
  for (const c of CASES) {
    const inputs: GradInput[] = [
      { data: randomData(size(c.x), seed++), shape: c.x },
      { data: randomData(size(c.w), seed++), shape: c.w },
    ];
    if (c.hasBias) inputs.push({ data: randomData(c.w[0], seed++), shape: [c.w[0]] });
    await gradcheck(
      c.name,
      inputs,
      ([x, w, b]) => conv2d(x, w, b, c),
      ([x, w, b]) => ref(c, x, w, b).out,
      { rtol: 1e-3, atol: 1e-4 },
    );
  }
});

gpuTest("conv2d gradients through a fused residual and relu", async () => {
  const c: Case = { name: "residual relu", x: [2, 3, 5, 4], w: [4, 3, 3, 3], padding: [1, 1] };
  const outShape = ref(c, new Float64Array(size(c.x)), new Float64Array(size(c.w))).shape;
  const inputs: GradInput[] = [
    { data: randomData(size(c.x), 7), shape: c.x },
    { data: randomData(size(c.w), 8), shape: c.w },
    { data: randomData(4, 9), shape: [4] },
    { data: randomData(size(outShape), 10), shape: outShape },
  ];
  const opts = (r: unknown): Conv2dOptions => ({ ...c, residual: r as never, activation: "relu" });
  await gradcheck(
    c.name,
    inputs,
    ([x, w, b, r]) => conv2d(x, w, b, opts(r)),
    ([x, w, b, r]) => ref(c, x, w, b).out.map((v, i) => Math.max(v + r[i], 0)),
    { rtol: 1e-3, atol: 1e-4 },
  );
});

gpuTest("conv2dNhwc equals conv2d on the permuted tensors", async () => {
  const c = CASES[2];
  const xd = randomData(size(c.x), 21), wd = randomData(size(c.w), 22);
  const [a, b] = await scopeAsync(async () => {
    const [nchw, nhwc] = noGrad(() => {
      const x = tensor(xd, c.x), w = tensor(wd, c.w);
      const viaNhwc = permute(conv2dNhwc(permute(x, [0, 2, 3, 1]), w, c), [0, 3, 1, 2]);
      return [conv2d(x, w, undefined, c), viaNhwc];
    });
    return [await nchw.read(), await nhwc.read()];
  });
  assert.deepEqual(Array.from(a), Array.from(b));
});

gpuTest("conv2d rejects mismatched shapes with a message naming them", () => {
  noGrad(() => {
    const x = tensor(new Float32Array(2 * 4 * 5 * 5), [2, 4, 5, 5]);
    assert.throws(
      () => conv2d(x, tensor(new Float32Array(6 * 3 * 9), [6, 3, 3, 3])),
      /expects 3 input channels, input has 4/,
    );
    assert.throws(
      () => conv2d(x, tensor(new Float32Array(6 * 2 * 9), [6, 2, 3, 3]), undefined, { groups: 3 }),
      /groups 3 must divide Cin 4/,
    );
    assert.throws(
      () => conv2d(x, tensor(new Float32Array(6 * 4 * 49), [6, 4, 7, 7])),
      /does not fit input 5x5/,
    );
  });
});
