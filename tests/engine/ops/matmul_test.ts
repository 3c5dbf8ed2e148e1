/** matmul / linear autograd: finite-difference checks against the float64 GEMM reference. */
import assert from "node:assert/strict";
import { gpuTest, randomData } from "../../gpu.ts";
import { gradcheck, type GradInput } from "../../gradcheck.ts";
import { linear, matmul, type MatmulOptions } from "../../../engine/ops/matmul.ts";
import * as op from "../../../engine/ops/mod.ts";
import { scope, tensor } from "../../../engine/tensor.ts";
import { requireGrad } from "../../../engine/autograd.ts";
import { engine } from "../../../engine/context.ts";
import { type Activation, gemmReference, planGemm } from "../../../kernels/gemm/gemm.ts";

const size = (s: number[]) => s.reduce((p, d) => p * d, 1);
let seed = 1;
const input = (shape: number[], lo = -1, hi = 1): GradInput => ({
  data: randomData(size(shape), seed++, lo, hi),
  shape,
});

/** gradcheck of matmul(A, B, opts) with optional bias and residual inputs. */
async function checkMatmul(
  name: string,
  aShape: number[],
  bShape: number[],
  opts: Omit<MatmulOptions, "bias" | "residual">,
  withBias: boolean,
  withResidual: boolean,
): Promise<void> {
  const p = planGemm(aShape, bShape, opts.transA, opts.transB);
  const inputs = [input(aShape), input(bShape)];
  if (withBias) inputs.push(input([p.n]));
  if (withResidual) inputs.push(input(p.outShape));
  const rIdx = withBias ? 3 : 2;
  await gradcheck(
    name,
    inputs,
    (xs) =>
      matmul(xs[0], xs[1], {
        ...opts,
        bias: withBias ? xs[2] : undefined,
        residual: withResidual ? xs[rIdx] : undefined,
      }),
    (xs) =>
      gemmReference(xs[0], aShape, xs[1], bShape, {
        ...opts,
        bias: withBias ? xs[2] : undefined,
        residual: withResidual ? xs[rIdx] : undefined,
      }),
  );
}

gpuTest("matmul gradients: all transpose combinations, bias, residual, alpha", async () => {
  for (const transA of [false, true]) {
    for (const transB of [false, true]) {
      const aShape = transA ? [4, 3] : [3, 4];
      const bShape = transB ? [5, 4] : [4, 5];
      await checkMatmul(
        `matmul ${transA} ${transB}`,
        aShape,
        bShape,
        {
          transA,
          transB,
          alpha: 0.7,
        },
        true,
        true,
      );
    }
  }
});

gpuTest("matmul gradients through each fused activation", async () => {
  for (const activation of ["relu", "relu6", "gelu", "quick_gelu"] as Activation[]) {
    // alpha = 5 spreads outputs over relu6's both knees; no output sits within 1e-3 of a knee
    // for these seeds, so central differences stay on one side.
    await checkMatmul(
      `matmul ${activation}`,
      [3, 4],
      [4, 6],
      { activation, alpha: 5 },
      true,
      false,
    );
  }
});

gpuTest("matmul gradients under batch broadcasting sum over broadcast dims", async () => {
  await checkMatmul("batched A, 2-D B", [2, 3, 4], [4, 5], {}, true, true);
  await checkMatmul(
    "2-D A transposed, batched B",
    [4, 3],
    [2, 4, 5],
    { transA: true },
    false,
    true,
  );
  await checkMatmul("both broadcast", [2, 1, 3, 4], [3, 5, 4], { transB: true }, true, false);
  await checkMatmul("batched gelu", [2, 3, 4], [2, 4, 3], { activation: "gelu" }, true, true);
});

gpuTest("linear is x·Wᵀ + b with gradients in x, W and b", async () => {
  const x = input([2, 3, 4]), w = input([5, 4]), b = input([5]);
  for (const act of ["none", "quick_gelu"] as Activation[]) {
    await gradcheck(
      `linear ${act}`,
      [x, w, b],
      ([xt, wt, bt]) => linear(xt, wt, bt, act),
      ([xd, wd, bd]) =>
        gemmReference(xd, [6, 4], wd, [5, 4], { transB: true, bias: bd, activation: act }),
    );
  }
  const v = input([4]);
  await gradcheck(
    "linear of a vector",
    [v, w],
    ([vt, wt]) => {
      const y = linear(vt, wt);
      assert.deepEqual(y.shape, [5]);
      return y;
    },
    ([vd, wd]) => gemmReference(vd, [1, 4], wd, [5, 4], { transB: true }),
  );
});

gpuTest("matmul training steps keep live memory flat", async () => {
  const pool = engine().pool;
  const w = requireGrad(tensor(randomData(20, 3), [4, 5]));
  const b = requireGrad(tensor(randomData(5, 4), [5]));
  const step = () =>
    scope(() => {
      const x = tensor(randomData(24, 5), [2, 3, 4]);
      const y = matmul(x, w, { bias: b, activation: "gelu" });
      op.backward(op.sum(y));
    });
  step();
  await engine().sync();
  const before = pool.liveBytes;
  for (let i = 0; i < 3; i++) step();
  await engine().sync();
  assert.equal(pool.liveBytes, before);
  w.grad?.dispose();
  b.grad?.dispose();
  w.dispose();
  b.dispose();
});
