/**
 * The WebGPU peers of `bench gemm` and `bench conv` compute the benchmark's products correctly
 * on odd shapes (so their timings are of real work), on our engine's adapter.
 */
import assert from "node:assert/strict";
import { gpuTest } from "../gpu.ts";
import { engine } from "../../engine/context.ts";
import { gemmReference } from "../../kernels/gemm/gemm.ts";
import { conv2dReference } from "../../kernels/conv/conv2d.ts";
import { type ConvShape, openPeers, type Peer } from "../../bench/peers.ts";

const U = 2 ** -24;

function values(n: number, seed: number): Float32Array<ArrayBuffer> {
  return Float32Array.from({ length: n }, (_, i) => Math.sin((i + 1) * 0.731 * seed) * 0.9);
}

/**
 * |got - want| within the f32 dot-product bound n·u·Σ|terms| (any summation order), per entry;
 * `bound[i]` is Σ|terms| of entry i.
 */
function assertClose(got: Float32Array, want: Float64Array, bound: Float64Array, n: number) {
  assert.equal(got.length, want.length);
  for (let i = 0; i < want.length; i++) {
    const tol = 1.01 * n * U * bound[i] + 1e-30;
    assert.ok(
      Math.abs(got[i] - want[i]) <= tol,
      `entry ${i}: ${got[i]} vs ${want[i]} (tol ${tol})`,
    );
  }
}

async function checkGemm(peer: Peer) {
  const [m, n, k] = [37, 23, 29];
  const a = values(m * k, 1), b = values(k * n, 2);
  const want = gemmReference(a, [m, k], b, [k, n]);
  const bound = gemmReference(a.map(Math.abs), [m, k], b.map(Math.abs), [k, n]);
  const c = peer.gemm(a, b, m, n, k);
  try {
    // Two repetitions, as timed: the last product is read back.
    assertClose(await c.run(2), want, bound, k);
  } finally {
    c.dispose();
  }
}

const CONVS: ConvShape[] = [
  { batch: 2, side: 9, cin: 3, cout: 5, k: 3, stride: 2, padding: 1, groups: 1 },
  { batch: 1, side: 7, cin: 6, cout: 4, k: 1, stride: 1, padding: 0, groups: 1 },
  { batch: 2, side: 7, cin: 5, cout: 5, k: 3, stride: 1, padding: 1, groups: 5 },
];

/** NHWC from NCHW, or (`back`) NCHW from NHWC. */
function nhwc(x: ArrayLike<number>, n: number, c: number, h: number, w: number, back = false) {
  const out = new Float64Array(x.length);
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      for (let i = 0; i < h * w; i++) {
        const [from, to] = [(b * c + ch) * h * w + i, (b * h * w + i) * c + ch];
        if (back) out[from] = x[to];
        else out[to] = x[from];
      }
    }
  }
  return out;
}

const nchw = (x: ArrayLike<number>, n: number, c: number, h: number, w: number) =>
  nhwc(x, n, c, h, w, true);

async function checkConv(peer: Peer, s: ConvShape) {
  const x = values(s.batch * s.side * s.side * s.cin, 3);
  const w = values(s.cout * (s.cin / s.groups) * s.k * s.k, 4);
  // The reference takes NCHW: x's NHWC values reordered.
  const xNchw = nchw(x, s.batch, s.cin, s.side, s.side);
  const xShape = [s.batch, s.cin, s.side, s.side];
  const wShape = [s.cout, s.cin / s.groups, s.k, s.k];
  const opts = {
    stride: [s.stride, s.stride] as [number, number],
    padding: [s.padding, s.padding] as [number, number],
    groups: s.groups,
  };
  const ref = conv2dReference(xNchw, xShape, w, wShape, undefined, opts);
  const abs = conv2dReference(
    xNchw.map(Math.abs),
    xShape,
    w.map(Math.abs),
    wShape,
    undefined,
    opts,
  );
  const [, , oh, ow] = ref.shape;
  const c = peer.conv(x, w, s);
  assert.ok(c, `${peer.name} runs ${JSON.stringify(s)}`);
  try {
    assertClose(
      await c.run(2),
      nhwc(ref.out, s.batch, s.cout, oh, ow),
      nhwc(abs.out, s.batch, s.cout, oh, ow),
      (s.cin / s.groups) * s.k * s.k,
    );
  } finally {
    c.dispose();
  }
}

gpuTest(
  "peers: tfjs-webgpu and jax-js products match the float64 reference, on our adapter",
  async (backend) => {
    const gpu = engine().gpu;
    const { peers, skipped } = await openPeers(gpu);
    const byName = new Map(peers.map((p) => [p.name, p]));
    assert.ok(byName.has("tfjs-webgpu"), JSON.stringify(skipped));
    // jax-js takes its device once per process: on the first backend under test only.
    if (!byName.has("jax-js")) {
      const why = skipped.find((s) => s.name === "jax-js")?.why ?? "";
      assert.match(why, /once per process, here on the \w+ backend/);
      assert.doesNotMatch(why, new RegExp(`on the ${backend} backend`));
    }
    for (const peer of peers) {
      assert.equal(peer.adapter, gpu.adapter.description || gpu.adapter.device);
      await checkGemm(peer);
      for (const s of CONVS) await checkConv(peer, s);
    }
  },
);
