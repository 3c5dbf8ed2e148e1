import assert from "node:assert/strict";
import { assertClose, gpuTest, randomData } from "../../gpu.ts";
import { badgeRowReference, unitReference } from "../../../kernels/distance/pack.ts";
import {
  InputChecks,
  pack,
  type PackOptions,
  type SpaceKind,
} from "../../../al/strategies/space.ts";
import type { HostMatrix, Matrix, RowStream } from "../../../al/strategies/types.ts";
import { scopeAsync, tensor } from "../../../engine/tensor.ts";

const N = 203, C = 7, D = 10;

function softmaxRows(z: Float32Array, cols: number): Float32Array {
  for (let o = 0; o < z.length; o += cols) {
    let s = 0;
    for (let c = 0; c < cols; c++) s += z[o + c] = Math.exp(z[o + c]);
    for (let c = 0; c < cols; c++) z[o + c] /= s;
  }
  return z;
}

/**
 * A host matrix as a stream, logging the row ranges read; like a file reader's, each slice is
 * returned in one scratch buffer that every stream of `shared` reuses.
 */
function stream(m: HostMatrix, reads: [number, number][], shared: { scratch: Float32Array }) {
  const cols = m.shape[1];
  const rows: RowStream["rows"] = (row0, n) => {
    reads.push([row0, n]);
    if (shared.scratch.length < n * cols) shared.scratch = new Float32Array(n * cols);
    const out = shared.scratch.subarray(0, n * cols);
    out.set(m.data.subarray(row0 * cols, (row0 + n) * cols));
    return Promise.resolve(out);
  };
  return { shape: m.shape, rows };
}

/** Packs and reads back every row (in 128-row chunks), checking the input on the way. */
async function packedFrom(kind: SpaceKind, a: Matrix, b: Matrix | undefined, opts: PackOptions) {
  const rowBytes = { probs: 32, unit: 32, badge: 80, "badge-raw": 96 }[kind];
  const checks = new InputChecks();
  const space = await pack(kind, a, b, checks, { what: "a", what2: "b", probabilities: false }, {
    maxChunkBytes: 128 * rowBytes,
    ...opts,
  });
  try {
    await checks.read();
    const rows: Float32Array[] = [];
    for (const chunk of space.chunks) {
      const data = (await chunk.data.read()) as Float32Array;
      for (let r = 0; r < chunk.n; r++) {
        rows.push(data.slice(r * 4 * space.wq, (r + 1) * 4 * space.wq));
      }
    }
    assert.equal(space.chunks.length, 2);
    return { rows, space, first: kind.startsWith("badge") ? checks.firstNonZero(space.flagAt) : 0 };
  } finally {
    space.dispose();
    checks.dispose();
  }
}

/**
 * Packs from host memory, and checks the same rows come out bitwise when the matrices are on
 * the GPU and when they are streamed in 64-row slices (several per chunk).
 */
async function packed(kind: SpaceKind, a: HostMatrix, b?: HostMatrix) {
  const host = await packedFrom(kind, a, b, {});
  const reads: [number, number][] = [];
  const shared = { scratch: new Float32Array(0) };
  const streamed = await packedFrom(kind, stream(a, reads, shared), b && stream(b, reads, shared), {
    sliceBytes: 64 * 4 * (a.shape[1] + (b?.shape[1] ?? 0)),
  });
  assert.deepEqual(streamed.rows, host.rows, `${kind}: streamed in slices`);
  assert.equal(streamed.first, host.first);
  assert.deepEqual(
    reads.filter((_, i) => !b || i % 2 === 0),
    [[0, 64], [64, 64], [128, 64], [192, N - 192]],
    "64-row slices within 128-row chunks",
  );
  await scopeAsync(async () => {
    const onGpu = await packedFrom(kind, tensor(a.data, a.shape), b && tensor(b.data, b.shape), {});
    assert.deepEqual(onGpu.rows, host.rows, `${kind}: from GPU tensors`);
  });
  return host;
}

gpuTest("pack: rows as they are and L2-normalised, zero-padded to whole vec4s", async () => {
  const x = randomData(N * C, 1);
  x.fill(0, 5 * C, 6 * C); // a zero row stays zero (F.normalize's epsilon)
  const m = { data: x, shape: [N, C] };
  const copy = await packed("probs", m);
  const unit = await packed("unit", m);
  for (let r = 0; r < N; r++) {
    const row = Array.from(x.subarray(r * C, (r + 1) * C));
    assert.deepEqual(Array.from(copy.rows[r]), [...row, 0]);
    // float32 division by the float32 norm: a few ulp.
    assertClose(unit.rows[r], [...unitReference(row), 0], {
      rtol: 4e-7,
      atol: 1e-7,
      what: `row ${r}`,
    });
  }
});

gpuTest("pack: rows of whole vec4s go straight into their chunk, checked there", async () => {
  const C4 = 8;
  const x = softmaxRows(randomData(N * C4, 4), C4);
  const copy = await packed("probs", { data: x, shape: [N, C4] });
  for (let r = 0; r < N; r++) {
    assert.deepEqual(Array.from(copy.rows[r]), Array.from(x.subarray(r * C4, (r + 1) * C4)));
  }
  // Bad rows in the second chunk's second slice are named, streamed or from host memory.
  const bad = async (row: number, value: number, message: RegExp) => {
    const y = x.slice();
    y[row * C4 + 3] = value;
    const m = { data: y, shape: [N, C4] };
    for (const src of [m, stream(m, [], { scratch: new Float32Array(0) })]) {
      const checks = new InputChecks();
      const space = await pack("probs", src, undefined, checks, {
        what: "a",
        probabilities: true,
      }, { maxChunkBytes: 128 * 32, sliceBytes: 64 * 4 * C4 });
      try {
        await assert.rejects(checks.read(), message);
      } finally {
        space.dispose();
        checks.dispose();
      }
    }
  };
  await bad(197, NaN, /^Error: a: row 197 contains NaN or Inf$|a: row 197 contains NaN or Inf/);
  await bad(200, 2, /a: row 200 is not a probability vector/);
});

gpuTest("pack: BADGE's factorised gradient embedding, normalised and raw", async () => {
  const p = softmaxRows(randomData(N * C, 2, -3, 3), C);
  const h = randomData(N * D, 3);
  h.fill(0, 0, D); // row 0: zero features, a zero embedding
  const probs = { data: p, shape: [N, C] }, features = { data: h, shape: [N, D] };
  const norm = await packed("badge", probs, features);
  const raw = await packed("badge-raw", probs, features);
  assert.equal(norm.first, 1, "first row with a non-zero embedding");
  // Blocks: a in floats [0, 8), b in [8, 18), padding to 20; raw: ||g||^2 at float 20.
  for (let r = 0; r < N; r++) {
    const pr = p.subarray(r * C, (r + 1) * C), hr = h.subarray(r * D, (r + 1) * D);
    const want = badgeRowReference(pr, hr, true);
    const got = Array.from(norm.rows[r]);
    assert.deepEqual([got[7], got[18], got[19]], [0, 0, 0], `row ${r} padding`);
    assertClose([...got.slice(0, 7), ...got.slice(8, 18)], want, { rtol: 1e-5, atol: 1e-7 });
    const wantRaw = badgeRowReference(pr, hr, false);
    const gotRaw = Array.from(raw.rows[r]);
    assertClose([...gotRaw.slice(0, 7), ...gotRaw.slice(8, 18), gotRaw[20]], wantRaw, {
      rtol: 1e-5,
      atol: 1e-7,
    });
  }
});
