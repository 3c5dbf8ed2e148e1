/**
 * The GEMM kernel against the float64 reference. Tolerance: |got − ref| ≤ 1e-4·|ref| + 1e-6·K
 * (f32 accumulation of K terms of magnitude ≤ 1, as every case scales its data to |x| ≤ 1
 * except the large-magnitude case, which is checked relatively).
 */
import assert from "node:assert/strict";
import { assertClose, gpuTest, randomData } from "../../gpu.ts";
import { scope, tensor } from "../../../engine/tensor.ts";
import { engine } from "../../../engine/context.ts";
import { gemmRaw, type MatmulOptions } from "../../../engine/ops/matmul.ts";
import {
  type Activation,
  ACTIVATIONS,
  gemmReference,
  planGemm,
} from "../../../kernels/gemm/gemm.ts";
import { activationGradReference } from "../../../kernels/gemm/activation_grad.ts";
import { type GemmTiles, LLVMPIPE_TILES } from "../../../kernels/gemm/tiles.ts";

interface Case {
  a: Float32Array;
  aShape: number[];
  b: Float32Array;
  bShape: number[];
  bias?: Float32Array;
  residual?: Float32Array;
  opts?: Omit<MatmulOptions, "bias" | "residual">;
}

const size = (s: number[]) => s.reduce((p, d) => p * d, 1);

async function check(c: Case, what: string, rtol = 1e-4): Promise<void> {
  const opts = c.opts ?? {};
  const got = await scope(() =>
    gemmRaw(tensor(c.a, c.aShape), tensor(c.b, c.bShape), {
      ...opts,
      bias: c.bias && tensor(c.bias),
      residual: c.residual &&
        tensor(c.residual, planGemm(c.aShape, c.bShape, opts.transA, opts.transB).outShape),
    })
  ).read();
  const want = gemmReference(c.a, c.aShape, c.b, c.bShape, {
    ...opts,
    bias: c.bias,
    residual: c.residual,
  });
  const k = planGemm(c.aShape, c.bShape, opts.transA, opts.transB).k;
  assertClose(got, want, { rtol, atol: 1e-6 * Math.max(k, 1), what });
}

function operands(
  m: number,
  n: number,
  k: number,
  transA: boolean,
  transB: boolean,
  seed: number,
): Case {
  return {
    a: randomData(m * k, seed),
    aShape: transA ? [k, m] : [m, k],
    b: randomData(k * n, seed + 1),
    bShape: transB ? [n, k] : [k, n],
    opts: { transA, transB },
  };
}

const ODD: [number, number, number][] = [
  [1, 7, 33],
  [33, 127, 7],
  [127, 1, 257],
  [257, 33, 127],
  [7, 257, 1],
  [64, 64, 64], // every dim a multiple of 4: vec4 loads of both operands
  [12, 20, 16], // vec4 loads in every layout, partial tiles
  [5, 12, 8], // A transposed cannot use vec4 loads (M = 5), B can
  [12, 6, 8], // B cannot use vec4 loads unless transposed (N = 6)
];

gpuTest("gemm matches the reference on odd shapes, all transpose combinations", async () => {
  let seed = 1;
  for (const [m, n, k] of ODD) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        await check(
          operands(m, n, k, transA, transB, seed += 2),
          `${m}x${n}x${k} ${transA}${transB}`,
        );
      }
    }
  }
});

gpuTest("gemm broadcasts batch dims, incl. a rank-2 operand against a batched one", async () => {
  const cases: [number[], number[], boolean, boolean][] = [
    [[2, 1, 7, 33], [3, 33, 5], false, false],
    [[33, 7], [4, 33, 9], true, false],
    [[4, 5, 6], [6, 7], false, false], // B shared: one tall product
    [[4, 6, 5], [7, 6], true, true],
    [[3, 1, 5, 6], [1, 4, 9, 6], false, true],
    [[2, 3, 5, 6], [2, 3, 6, 4], false, false], // batch dims merge into one
    [[2, 1, 3, 1, 5, 6], [1, 2, 1, 3, 6, 4], false, false], // four strided batch dims
  ];
  let seed = 100;
  for (const [aShape, bShape, transA, transB] of cases) {
    const c: Case = {
      a: randomData(size(aShape), seed++),
      aShape,
      b: randomData(size(bShape), seed++),
      bShape,
      opts: { transA, transB },
    };
    await check(c, `[${aShape}]·[${bShape}]`);
    const out = planGemm(aShape, bShape, transA, transB);
    // The epilogue indexes bias by column and the residual by output element in every batch.
    c.bias = randomData(out.n, seed++);
    c.residual = randomData(size(out.outShape), seed++);
    await check(c, `[${aShape}]·[${bShape}] + bias + residual`);
  }
});

gpuTest("fused epilogue: alpha, bias, residual and each activation", async () => {
  for (const act of Object.keys(ACTIVATIONS) as Activation[]) {
    for (const [m, n, k] of [[33, 65, 17], [5, 3, 129], [32, 64, 16]]) {
      const c = operands(m, n, k, false, act === "gelu", 7);
      // alpha = 4 pushes outputs past relu6's upper knee and gelu's tails.
      c.opts = { ...c.opts, activation: act, alpha: 4 };
      c.bias = randomData(n, 8, -2, 2);
      c.residual = randomData(m * n, 9, -3, 3);
      await check(c, `${act} ${m}x${n}x${k}`);
    }
  }
});

// The adapter's own choice runs in every other test (on Dawn's llvmpipe: "subgroup").
const OTHER_TILES: GemmTiles[] = [
  LLVMPIPE_TILES,
  { kernel: "direct", WG_X: 4, WG_Y: 2, TM4: 1, TN4: 2 },
  { kernel: "tiled", WG_X: 8, WG_Y: 8, TM: 8, BK: 32 },
  { kernel: "tiled", WG_X: 16, WG_Y: 4, TM: 3, BK: 8 },
];

gpuTest("other tile configurations and the staged kernel match the reference", async () => {
  let seed = 300;
  const own = JSON.stringify(engine().kernels.gemmTiles);
  for (const tiles of OTHER_TILES.filter((t) => JSON.stringify(t) !== own)) {
    for (const [m, n, k] of [[33, 17, 45], [12, 20, 16]]) {
      // Two of the four layouts keep the pipelines to compile (seconds each on llvmpipe) few.
      for (const trans of [false, true]) {
        const c = operands(m, n, k, trans, trans, seed += 2);
        c.bias = randomData(n, seed);
        c.opts = { ...c.opts, activation: "relu", alpha: 2 };
        await engine().withKernels(
          { gemmTiles: tiles },
          () => check(c, `${JSON.stringify(tiles)} ${m}x${n}x${k}`),
        );
      }
    }
    const batched: Case = {
      a: randomData(2 * 5 * 8, seed++),
      aShape: [2, 1, 5, 8],
      b: randomData(3 * 8 * 12, seed++),
      bShape: [3, 8, 12],
      residual: randomData(2 * 3 * 5 * 12, seed++),
    };
    await engine().withKernels(
      { gemmTiles: tiles },
      () => check(batched, `${JSON.stringify(tiles)} batched`),
    );
  }
});

// Other widths of the subgroup kernel (on adapters with subgroups): narrow workgroups put
// partial tiles into small shapes.
const SUBGROUP_TILES: GemmTiles[] = [
  { kernel: "subgroup", WG_X: 8 },
  { kernel: "subgroup", WG_X: 16 },
  { kernel: "subgroup", WG_X: 64 },
];

gpuTest(
  "subgroup tile configurations match the reference where the adapter has subgroups",
  async () => {
    if (!engine().gpu.features.has("subgroups")) {
      // Nothing to run here: the adapter's own choice must then not be the subgroup kernel.
      assert.notEqual(engine().kernels.gemmTiles.kernel, "subgroup");
      return;
    }
    let seed = 500;
    const own = JSON.stringify(engine().kernels.gemmTiles);
    for (const tiles of SUBGROUP_TILES.filter((t) => JSON.stringify(t) !== own)) {
      // K = 45: a K tail inside an 8-deep step; [21, 68, 12]: vec4 B with the last step's
      // upper half absent (K % 8 = 4); [12, 20, 16]: vec4 B in every layout.
      for (const [m, n, k] of [[33, 17, 45], [21, 68, 12], [12, 20, 16]]) {
        for (const trans of [false, true]) {
          const c = operands(m, n, k, trans, trans, seed += 2);
          c.bias = randomData(n, seed);
          c.residual = randomData(m * n, seed + 1);
          c.opts = { ...c.opts, activation: "relu", alpha: 2 };
          await engine().withKernels(
            { gemmTiles: tiles },
            () => check(c, `${JSON.stringify(tiles)} ${m}x${n}x${k} ${trans}`),
          );
        }
      }
      const batched: Case = {
        a: randomData(2 * 5 * 8, seed++),
        aShape: [2, 1, 5, 8],
        b: randomData(3 * 8 * 12, seed++),
        bShape: [3, 8, 12],
      };
      await engine().withKernels(
        { gemmTiles: tiles },
        () => check(batched, `${JSON.stringify(tiles)} batched`),
      );
    }
  },
);

gpuTest("NaN and Inf propagate as in IEEE float64", async () => {
  const m = 9, n = 11, k = 19;
  for (const act of ["none", "relu", "relu6"] as Activation[]) {
    const c = operands(m, n, k, false, false, 21);
    c.a[2 * k + 3] = NaN; // row 2 is NaN
    c.b[5 * n + 4] = Infinity; // column 4 is ±Inf (NaN in row 2)
    c.b[6 * n + 7] = -Infinity;
    c.b[7 * n + 7] = Infinity; // column 7 of row 0: Inf − Inf = NaN
    c.a[6] = c.a[7] = 0.5;
    c.opts = { activation: act };
    c.bias = randomData(n, 22);
    await check(c, `NaN/Inf ${act}`);
    const got = await scope(() => gemmRaw(tensor(c.a, c.aShape), tensor(c.b, c.bShape), c.opts))
      .read();
    assert.ok(Number.isNaN(got[2 * n]), `${act}: NaN row`);
    assert.ok(Number.isNaN(got[7]), `${act}: Inf − Inf column`);
  }
});

gpuTest("large and small magnitudes keep relative accuracy", async () => {
  for (const scale of [1e17, 1e-17]) {
    const c = operands(31, 45, 67, true, false, 31);
    c.a = c.a.map((v) => v * scale);
    c.b = c.b.map((v) => v * scale);
    const want = gemmReference(c.a, c.aShape, c.b, c.bShape, c.opts);
    const got = await scope(() => gemmRaw(tensor(c.a, c.aShape), tensor(c.b, c.bShape), c.opts))
      .read();
    assertClose(got, want, { rtol: 1e-4, atol: 1e-4 * scale * scale, what: `scale ${scale}` });
  }
});

gpuTest("empty K gives bias (+ residual), empty M gives an empty output", async () => {
  const bias = [1, 2, 3];
  const got = await scope(() =>
    gemmRaw(tensor([], [2, 0]), tensor([], [0, 3]), { bias: tensor(bias) })
  ).read();
  assert.deepEqual(Array.from(got), [1, 2, 3, 1, 2, 3]);
  const e = scope(() => gemmRaw(tensor([], [0, 4]), tensor(randomData(12, 1), [4, 3])));
  assert.deepEqual(e.shape, [0, 3]);
  e.dispose();
});

gpuTest("shape errors name both operands", () => {
  scope(() => {
    const a = tensor(randomData(6, 1), [2, 3]);
    assert.throws(() => gemmRaw(a, tensor(randomData(8, 2), [4, 2])), /inner dims differ: \[2,3\]/);
    assert.throws(
      () => gemmRaw(tensor(randomData(12, 3), [2, 2, 3]), tensor(randomData(18, 4), [3, 3, 2])),
      /do not broadcast/,
    );
    assert.throws(() => gemmRaw(a, tensor(randomData(3, 5), [3, 1]), { bias: a }), /bias/);
  });
});

Deno.test("activation derivative reference is the derivative of the activation", () => {
  // A sanity check of the float64 references both kernels are tested against.
  for (const act of ["gelu", "quick_gelu"] as Activation[]) {
    for (const v of [-3.1, -0.4, 0, 0.7, 2.5]) {
      const h = 1e-6;
      const f = (x: number) => gemmReference([x], [1, 1], [1], [1, 1], { activation: act })[0];
      const fd = (f(v + h) - f(v - h)) / (2 * h);
      assert.ok(Math.abs(activationGradReference(act)(v) - fd) < 1e-7, `${act}'(${v})`);
    }
  }
});
