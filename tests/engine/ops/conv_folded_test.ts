/**
 * Evaluation-mode folded convolution: the BatchNorm fold (fold_bn.wgsl) against PyTorch's
 * fuse_conv_bn_eval in float64, in both weight layouts, and the packed-weight convolution
 * (conv2d_packed.wgsl) with its fused epilogue against the float64 reference on odd shapes.
 */
import assert from "node:assert/strict";
import { assertClose, gpuTest, randomData } from "../../gpu.ts";
import { conv2dFoldedRaw, foldConvBn } from "../../../engine/ops/conv_folded.ts";
import { convGeometry } from "../../../engine/ops/conv_geometry.ts";
import { scopeAsync, tensor } from "../../../engine/tensor.ts";
import { conv2dReference } from "../../../kernels/conv/conv2d.ts";
import { foldBnReference, type FoldReferenceBn } from "../../../kernels/conv/fold_bn.ts";

const size = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);

interface FoldCase {
  name: string;
  w: [number, number, number, number];
  convBias: boolean;
  bn: "affine" | "plain" | "none";
}

const FOLD_CASES: FoldCase[] = [
  // Cout 7: the packed rows pad to 8 (the pad must be zeros); Cin and taps odd.
  { name: "3x2, conv bias, affine", w: [7, 5, 3, 2], convBias: true, bn: "affine" },
  { name: "1x1, no conv bias, affine", w: [70, 3, 1, 1], convBias: false, bn: "affine" },
  { name: "3x3, affine=False", w: [6, 4, 3, 3], convBias: true, bn: "plain" },
  { name: "layout only", w: [5, 4, 2, 3], convBias: true, bn: "none" },
];

gpuTest("fold_bn matches fuse_conv_bn_eval (float64) in both weight layouts", async () => {
  let seed = 1;
  for (const c of FOLD_CASES) {
    const cout = c.w[0];
    const wd = randomData(size(c.w), seed++);
    const bd = c.convBias ? randomData(cout, seed++) : undefined;
    const ref: FoldReferenceBn | undefined = c.bn === "none" ? undefined : {
      gamma: c.bn === "affine" ? randomData(cout, seed++, 0.5, 1.5) : undefined,
      beta: c.bn === "affine" ? randomData(cout, seed++) : undefined,
      mean: randomData(cout, seed++),
      variance: randomData(cout, seed++, 0.05, 2),
      eps: 1e-3,
    };
    for (const packed of [false, true]) {
      const expected = foldBnReference(wd, c.w, bd, ref, packed);
      const [w, b] = await scopeAsync(async () => {
        const bn = ref && {
          weight: ref.gamma && tensor(Float32Array.from(ref.gamma), [cout]),
          bias: ref.beta && tensor(Float32Array.from(ref.beta), [cout]),
          runningMean: tensor(Float32Array.from(ref.mean), [cout]),
          runningVar: tensor(Float32Array.from(ref.variance), [cout]),
          eps: ref.eps,
        };
        const f = foldConvBn(tensor(wd, c.w), bd && tensor(bd, [cout]), bn, packed);
        return [await f.weight.read(), await f.bias.read()];
      });
      const what = `${c.name}${packed ? " packed" : ""}`;
      if (packed) {
        // The pad columns are exact zeros (the packed kernel multiplies them).
        const pad = Math.ceil(cout / 4) * 4;
        for (let i = 0; i < w.length; i++) {
          if (i % pad >= cout) assert.equal(w[i], 0, `${what}: pad element ${i}`);
        }
      }
      assertClose(w, expected.weight, { rtol: 1e-6, atol: 1e-7, what: `${what} weight` });
      assertClose(b, expected.bias, { rtol: 1e-6, atol: 1e-6, what: `${what} bias` });
    }
  }
});

interface ConvCase {
  name: string;
  x: [number, number, number, number]; // NCHW
  w: [number, number, number, number];
  stride?: [number, number];
  padding?: [number, number];
  dilation?: [number, number];
}

const CONV_CASES: ConvCase[] = [
  // Cout not a multiple of 4, stride 2 on odd sizes, a batch that the pixel tile does not divide.
  { name: "3x3 stride 2", x: [3, 8, 7, 5], w: [7, 8, 3, 3], stride: [2, 2], padding: [1, 1] },
  {
    name: "dilation 2, asymmetric",
    x: [2, 12, 6, 6],
    w: [21, 12, 3, 2],
    padding: [2, 1],
    dilation: [2, 2],
  },
  // More output channels than one workgroup covers (8 invocations · 2 blocks · 4 channels).
  { name: "1x1, wide", x: [5, 4, 3, 3], w: [70, 4, 1, 1] },
  { name: "3x3 on 1x1", x: [17, 16, 1, 1], w: [9, 16, 3, 3], padding: [1, 1] },
];

/** NCHW [N, C, H, W] host data → NHWC. */
function toNhwc(d: ArrayLike<number>, [n, c, h, w]: readonly number[]): Float32Array {
  const out = new Float32Array(n * c * h * w);
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      for (let i = 0; i < h * w; i++) out[(b * h * w + i) * c + ch] = d[(b * c + ch) * h * w + i];
    }
  }
  return out;
}

gpuTest(
  "conv2d_packed matches the float64 reference on odd shapes, epilogue fused",
  async () => {
    let seed = 50;
    for (const c of CONV_CASES) {
      const cout = c.w[0];
      const xd = randomData(size(c.x), seed++), wd = randomData(size(c.w), seed++);
      const bd = randomData(cout, seed++);
      const base = conv2dReference(xd, c.x, wd, c.w, bd, c);
      const [n, , oh, ow] = base.shape;
      const conv = toNhwc(base.out, base.shape);
      const rd = randomData(conv.length, seed++);
      for (const act of ["none", "relu", "relu6"] as const) {
        for (const withResidual of [false, true]) {
          const hi = act === "relu6" ? 6 : Infinity;
          const lo = act === "none" ? -Infinity : 0;
          // Scaled by 4 so relu6 clips above 6 somewhere.
          const expected = conv.map((v, i) =>
            Math.min(Math.max(4 * v + (withResidual ? rd[i] : 0), lo), hi)
          );
          const got = await scopeAsync(async () => {
            const x = tensor(toNhwc(xd, c.x), [c.x[0], c.x[2], c.x[3], c.x[1]]);
            const w4 = tensor(wd.map((v) => 4 * v), c.w);
            const g = convGeometry(x.shape, c.w, c);
            const f = foldConvBn(w4, tensor(bd.map((v) => 4 * v), [cout]), undefined, true);
            const residual = withResidual ? tensor(rd, [n, oh, ow, cout]) : undefined;
            const y = conv2dFoldedRaw(x, f.weight, g, { bias: f.bias, residual, act });
            assert.deepEqual(y.shape, [n, oh, ow, cout]);
            return await y.read();
          });
          if (act !== "none") assert.ok(expected.some((v) => v === 0), "mask exercised");
          if (act === "relu6") assert.ok(expected.some((v) => v === 6), "clip exercised");
          const what = `${c.name} ${act}${withResidual ? " + residual" : ""}`;
          assertClose(got, expected, { rtol: 1e-4, atol: 1e-5, what });
        }
      }
    }
  },
);

gpuTest("conv2d_packed refuses what it cannot run", () => {
  const x = tensor(new Float32Array(2 * 3 * 3 * 6), [2, 3, 3, 6]);
  const w = tensor(new Float32Array(4 * 6 * 9), [4, 6, 3, 3]);
  const g = convGeometry(x.shape, w.shape, { padding: 1 });
  const f = foldConvBn(w, undefined, undefined, true);
  assert.throws(() => conv2dFoldedRaw(x, f.weight, g), /Cin % 4/);
  for (const t of [x, w, f.weight, f.bias]) t.dispose();
});
