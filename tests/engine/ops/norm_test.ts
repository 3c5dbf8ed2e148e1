import assert from "node:assert/strict";
import { assertClose, gpuTest, randomData } from "../../gpu.ts";
import { gradcheck } from "../../gradcheck.ts";
import { scope, scopeAsync, tensor } from "../../../engine/tensor.ts";
import { engine } from "../../../engine/context.ts";
import { requireGrad } from "../../../engine/autograd.ts";
import { backward } from "../../../engine/ops/backward.ts";
import { sum } from "../../../engine/ops/reduce.ts";
import { l2Normalize, layerNorm, norm } from "../../../engine/ops/norm.ts";
import { l2NormalizeReference, layerNormReference } from "../../../kernels/norm/norm.ts";
import { reduceReference } from "../../../kernels/reduce/reduce.ts";

const numel = (s: number[]) => s.reduce((a, b) => a * b, 1);

async function eachVariant(fn: (variant: string) => Promise<void>): Promise<void> {
  const variants = engine().gpu.features.has("subgroups") ? [true, false] : [false];
  for (const on of variants) {
    await engine().withKernels({ subgroups: on }, () => fn(on ? "subgroups" : "workgroup"));
  }
}

gpuTest(
  "layerNorm matches the float64 reference (odd widths, with and without affine)",
  async () => {
    await eachVariant(async (variant) => {
      for (const shape of [[1], [7], [3, 33], [2, 3, 127], [4, 257], [2, 768]]) {
        const d = shape[shape.length - 1];
        const x = randomData(numel(shape), d, -3, 5).map((v, i) => v + (i % 3) * 100); // offset rows
        const w = randomData(d, 2, 0.5, 1.5), b = randomData(d, 3);
        const got = await scope(() => layerNorm(tensor(x, shape), tensor(w), tensor(b), 1e-5))
          .read();
        assertClose(got, layerNormReference(x, d, w, b, 1e-5), {
          rtol: 1e-5,
          atol: 3e-5,
          what: `layerNorm [${shape}] (${variant})`,
        });
        const plain = await scope(() => layerNorm(tensor(x, shape), undefined, undefined)).read();
        assertClose(plain, layerNormReference(x, d, undefined, undefined), {
          rtol: 1e-5,
          atol: 3e-5,
          what: `layerNorm no affine [${shape}] (${variant})`,
        });
      }
    });
  },
);

gpuTest("l2Normalize and norm match the reference; zero rows stay finite", async () => {
  await eachVariant(async (variant) => {
    for (
      const [shape, axis] of [[[7], 0], [[3, 33], -1], [[4, 127, 3], 1], [[257, 2], 0]] as [
        number[],
        number,
      ][]
    ) {
      const x = randomData(numel(shape), numel(shape), -2, 2);
      const got = await scope(() => l2Normalize(tensor(x, shape), axis)).read();
      assertClose(got, l2NormalizeReference(x, shape, axis), {
        rtol: 2e-6,
        atol: 1e-7,
        what: `l2Normalize [${shape}] ${axis} (${variant})`,
      });
    }
    const z = await scope(() => l2Normalize(tensor([0, 0, 0, 3, 4, 0], [2, 3]))).read();
    assert.deepEqual(Array.from(z), [0, 0, 0, 0.6, 0.8, 0].map(Math.fround));
  });
  const x = randomData(2 * 3 * 5, 4);
  for (
    const [axes, keep] of [[[1], false], [[0, 2], true], [undefined, false]] as [
      number[] | undefined,
      boolean,
    ][]
  ) {
    const got = await scope(() => norm(tensor(x, [2, 3, 5]), axes, keep)).read();
    const ss = reduceReference("sum", x.map((v) => v * v), [2, 3, 5], axes ?? [0, 1, 2]);
    assertClose(got, ss.map(Math.sqrt), { rtol: 2e-6, what: `norm ${axes}` });
  }
});

gpuTest("norm gradients match finite differences", async () => {
  await eachVariant(async () => {
    const x = { data: randomData(3 * 33, 1, -2, 2), shape: [3, 33] };
    const w = { data: randomData(33, 2, 0.5, 1.5), shape: [33] };
    const b = { data: randomData(33, 3), shape: [33] };
    await gradcheck(
      "layerNorm",
      [x, w, b],
      ([p, q, r]) => layerNorm(p, q, r),
      ([p, q, r]) => layerNormReference(p, 33, q, r),
    );
    await gradcheck(
      "layerNorm without affine",
      [x],
      ([p]) => layerNorm(p, undefined, undefined),
      ([p]) => layerNormReference(p, 33, undefined, undefined),
    );
    // 130 rows: the weight and bias gradients sum three chunks of rows.
    await gradcheck(
      "layerNorm over 130 rows",
      [{ data: randomData(130 * 4, 7, -2, 2), shape: [130, 4] }, {
        ...w,
        data: w.data.slice(0, 4),
        shape: [4],
      }, {
        ...b,
        data: b.data.slice(0, 4),
        shape: [4],
      }],
      ([p, q, r]) => layerNorm(p, q, r),
      ([p, q, r]) => layerNormReference(p, 4, q, r),
    );
    const y = { data: randomData(4 * 5 * 3, 5, -2, 2), shape: [4, 5, 3] };
    await gradcheck(
      "l2Normalize",
      [y],
      ([p]) => l2Normalize(p, 1),
      ([p]) => l2NormalizeReference(p, [4, 5, 3], 1),
    );
    await gradcheck(
      "norm",
      [y],
      ([p]) => norm(p, [0, 2], true),
      ([p]) => reduceReference("sum", p.map((v) => v * v), [4, 5, 3], [0, 2]).map(Math.sqrt),
    );
  });
});

gpuTest("norm has a zero gradient at zero; layerNorm is bit-identical across runs", async () => {
  await scopeAsync(async () => {
    const z = requireGrad(tensor([0, 0, 0]));
    backward(norm(z));
    assert.deepEqual(Array.from(await z.grad!.read()), [0, 0, 0]);
    z.grad!.dispose();
  });
  const x = randomData(64 * 768, 8, -4, 4);
  const w = randomData(768, 9);
  const once = () =>
    scopeAsync(async () => {
      const xt = requireGrad(tensor(x, [64, 768]));
      const wt = requireGrad(tensor(w));
      const y = layerNorm(xt, wt, undefined);
      const out = Array.from(await y.read());
      backward(sum(y));
      const g = [...await xt.grad!.read(), ...await wt.grad!.read()];
      xt.grad!.dispose();
      wt.grad!.dispose();
      return [out, g];
    });
  assert.deepEqual(await once(), await once());
});

gpuTest("GPU-sized workgroups (256 threads per row) give the same results", async () => {
  await engine().withKernels({ rowThreads: 256 }, async () => {
    await eachVariant(async (variant) => {
      const x = randomData(3 * 768, 5, -3, 3);
      const w = randomData(768, 6, 0.5, 1.5);
      const got = await scope(() => layerNorm(tensor(x, [3, 768]), tensor(w), undefined)).read();
      assertClose(got, layerNormReference(x, 768, w, undefined), {
        rtol: 1e-5,
        atol: 3e-5,
        what: `layerNorm 256 threads (${variant})`,
      });
      const y = await scope(() => l2Normalize(tensor(x, [3, 768]))).read();
      assertClose(y, l2NormalizeReference(x, [3, 768], -1), {
        rtol: 2e-6,
        atol: 1e-8,
        what: `l2Normalize 256 threads (${variant})`,
      });
      await gradcheck(
        `layerNorm 256 threads (${variant})`,
        [{ data: x.slice(0, 300), shape: [1, 300] }],
        ([p]) => layerNorm(p, undefined, undefined),
        ([p]) => layerNormReference(p, 300, undefined, undefined),
      );
    });
  });
});
