import assert from "node:assert/strict";
import { assertClose, gpuTest, randomData } from "../../gpu.ts";
import { scope, tensor } from "../../../engine/tensor.ts";
import { binaryRaw, unaryRaw } from "../../../engine/ops/elementwise.ts";
import { BINARY_OPS, type BinaryOp, binaryReference } from "../../../kernels/elementwise/binary.ts";
import { UNARY_OPS, type UnaryOp, unaryReference } from "../../../kernels/elementwise/unary.ts";

const SHAPES: [number[], number[]][] = [
  [[7], [7]],
  [[33, 1], [1, 127]],
  [[2, 3, 1, 5], [3, 7, 1]],
  [[257], [1]],
  [[1], [4, 1, 9]],
];

gpuTest("binary ops match the float64 reference under broadcasting", async () => {
  for (const op of Object.keys(BINARY_OPS) as BinaryOp[]) {
    for (const [sa, sb] of SHAPES) {
      const na = sa.reduce((p, d) => p * d, 1), nb = sb.reduce((p, d) => p * d, 1);
      const a = randomData(na, 3, op === "pow" ? 0.1 : -2, 2);
      const b = randomData(nb, 5, op === "div" ? 0.5 : -2, 2);
      // Make some exact ties so the comparison ops see equality.
      if (nb === na) b[0] = a[0];
      const got = await scope(() => binaryRaw(op, tensor(a, sa), tensor(b, sb))).read();
      assertClose(got, binaryReference(op, a, sa, b, sb), { rtol: 2e-6, atol: 1e-6, what: op });
    }
  }
});

gpuTest("unary ops match the float64 reference", async () => {
  const x = randomData(1000, 11, -8, 8);
  for (const op of Object.keys(UNARY_OPS) as UnaryOp[]) {
    const input = ["log", "sqrt", "rsqrt", "pow_scalar"].includes(op) ? x.map(Math.abs) : x;
    const [alpha, beta] = op === "clamp"
      ? [-1.5, 2.5]
      : op === "pow_scalar"
      ? [1.5, 0]
      : [0.7, -0.2];
    const got = await scope(() => unaryRaw(op, tensor(input), alpha, beta)).read();
    const f = unaryReference(op, alpha, beta);
    const want = Array.from(input, (v) => f(Math.fround(v)));
    // exp/pow reach ~3e3: 4 ulp of float32 relative; gelu's erf fit is good to 1.2e-7 absolute.
    assertClose(got, want, { rtol: 4e-7 * 4, atol: 2e-7, what: op });
  }
});

gpuTest("tanh is finite on large magnitudes and NaN propagates through relu and max", async () => {
  const x = tensor([-1000, -90, 90, 1000, NaN]);
  const t = await unaryRaw("tanh", x).read();
  assert.deepEqual(Array.from(t.slice(0, 4)), [-1, -1, 1, 1]);
  const r = await unaryRaw("relu", x).read();
  assert.ok(Number.isNaN(r[4]), "relu(NaN) is NaN");
  const m = await binaryRaw("maximum", x, tensor([0])).read();
  assert.ok(Number.isNaN(m[4]), "maximum(NaN, 0) is NaN");
  x.dispose();
});

gpuTest("large tensors fold the dispatch into two dimensions", async () => {
  const n = 65535 * 256 + 1000; // more workgroups than one dimension allows
  const a = new Float32Array(n).fill(1.5);
  const out = await scope(() => unaryRaw("affine", tensor(a), 2, 1)).read();
  assert.equal(out[0], 4);
  assert.equal(out[n - 1], 4);
});
