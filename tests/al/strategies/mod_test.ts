/** select(): the fixtures of case F on every strategy, bad input, determinism. */
import assert from "node:assert/strict";
import { gpuTest, randomData } from "../../gpu.ts";
import { fixture } from "../../fixtures.ts";
import { loadSafetensors } from "../../../engine/safetensors.ts";
import { InputError } from "../../../engine/errors.ts";
import { Rng } from "../../../engine/rng.ts";
import { tensor } from "../../../engine/tensor.ts";
import { type Labeled, type Pool, select, STRATEGY_NAMES } from "../../../al/strategies/mod.ts";
import type { HostMatrix } from "../../../al/strategies/types.ts";

const FILES = [0, 1, 2, 3].map((i) => `select_${i}.safetensors`);

async function selectCase(file: string) {
  const { tensors } = await loadSafetensors(fixture("select", file));
  const m = (name: string) => tensors.get(name) as HostMatrix;
  const expected = (s: string) => Array.from(tensors.get(`expected.${s}`)!.data);
  return {
    pool: { probs: m("probs"), features: m("features") } as Pool,
    labeled: { probs: m("labeled_probs"), features: m("labeled_features") } as Labeled,
    expected,
  };
}

gpuTest(
  "select reproduces every expected list of the select fixtures (pcoreset, coreset, badge)",
  async () => {
    for (const file of FILES) {
      const f = await selectCase(file);
      for (const s of ["pcoreset", "coreset", "badge"]) {
        const want = f.expected(s);
        const got = await select(s, f.pool, f.labeled, want.length, Rng.fromSeed(0));
        assert.deepEqual(Array.from(got), want, `${file} ${s}`);
      }
    }
  },
  // One backend: whole selections over the four fixtures compile dozens of pipeline variants
  // (minutes on Dawn with a cold shader cache); their kernels are tested on both backends
  // (tests/kernels/distance).
  { oneBackend: true },
);

gpuTest("select takes pools already on the GPU, streamed in chunks", async () => {
  const f = await selectCase(FILES[1]);
  const gpu = (m: HostMatrix | undefined) => m && tensor(m.data, m.shape);
  const pool = {
    probs: gpu(f.pool.probs as HostMatrix),
    features: gpu(f.pool.features as HostMatrix),
  };
  const labeled = {
    probs: gpu(f.labeled.probs as HostMatrix),
    features: gpu(f.labeled.features as HostMatrix),
  };
  try {
    for (const s of ["pcoreset", "coreset", "badge"]) {
      const want = f.expected(s);
      const got = await select(s, pool, labeled, want.length, Rng.fromSeed(0), {
        maxChunkBytes: 256 * 4 * 16 * 10,
      });
      assert.deepEqual(Array.from(got), want, s);
    }
  } finally {
    for (const t of [...Object.values(pool), ...Object.values(labeled)]) t?.dispose();
  }
});

Deno.test("select reproduces the entropy fixtures (descending, ties in row order)", async () => {
  for (const file of FILES) {
    const f = await selectCase(file);
    const want = f.expected("entropy");
    assert.deepEqual(
      Array.from(await select("entropy", f.pool, {}, want.length, Rng.fromSeed(0))),
      want,
    );
  }
});

Deno.test("entropy: equal entropies keep ascending row order", async () => {
  const u = new Float32Array(12).fill(1 / 3); // four identical uniform rows
  u.set([1, 0, 0], 3); // row 1: zero entropy
  const got = await select(
    "entropy",
    { probs: { data: u, shape: [4, 3] } },
    {},
    4,
    Rng.fromSeed(0),
  );
  assert.deepEqual(Array.from(got), [0, 2, 3, 1]);
});

// A small valid pool for the refusal tests: 40 rows, 5 classes, 3 features.
function small(): { pool: { probs: HostMatrix; features: HostMatrix }; labeled: Labeled } {
  const p = randomData(40 * 5, 4, 0.1, 1);
  for (let r = 0; r < 40; r++) {
    let s = 0;
    for (let c = 0; c < 5; c++) s += p[r * 5 + c];
    for (let c = 0; c < 5; c++) p[r * 5 + c] /= s;
  }
  return {
    pool: {
      probs: { data: p, shape: [40, 5] },
      features: { data: randomData(120, 5), shape: [40, 3] },
    },
    labeled: {
      probs: { data: p.slice(0, 10), shape: [2, 5] },
      features: { data: randomData(6, 6), shape: [2, 3] },
    },
  };
}

gpuTest("bad input is refused as InputError naming what is wrong", async () => {
  const { pool, labeled } = small();
  const rng = Rng.fromSeed(1);
  const refuses = (p: Promise<unknown>, message: RegExp) =>
    assert.rejects(p, (e) => e instanceof InputError && message.test(e.message));
  await refuses(
    select("kcenter", pool, labeled, 3, rng),
    /^unknown strategy "kcenter" \(one of: random,/,
  );
  for (const s of STRATEGY_NAMES) {
    await refuses(
      select(s, pool, labeled, 41, rng),
      /^budget 41 is larger than the pool \(40 rows\)$/,
    );
  }
  await refuses(select("random", pool, labeled, -1, rng), /budget must be a non-negative integer/);
  await refuses(
    select("pcoreset", pool, { probs: { data: new Float32Array(8), shape: [2, 4] } }, 3, rng),
    /^labeled_probs: 4 columns, but pool probs has 5$/,
  );
  await refuses(
    select(
      "badge",
      { ...pool, features: { data: new Float32Array(39 * 3), shape: [39, 3] } },
      {},
      3,
      rng,
    ),
    /^features: 39 rows, but probs has 40$/,
  );
  await refuses(
    select("coreset", { probs: pool.probs }, {}, 3, rng),
    /^coreset needs pool features$/,
  );
  const nan = pool.probs.data.slice();
  nan[7 * 5 + 2] = NaN;
  const inf = pool.features.data.slice();
  inf[11 * 3] = -Infinity;
  for (const s of ["pcoreset", "entropy", "badge", "classbalanced"]) {
    await refuses(
      select(s, { ...pool, probs: { data: nan, shape: [40, 5] } }, labeled, 3, rng),
      /^probs: row 7 contains NaN or Inf$/,
    );
  }
  for (const s of ["coreset", "badge"]) {
    await refuses(
      select(s, { ...pool, features: { data: inf, shape: [40, 3] } }, labeled, 3, rng),
      /^features: row 11 contains NaN or Inf$/,
    );
  }
  // Probability rows: entries >= 0 and |sum - 1| <= 1e-3.
  const off = pool.probs.data.slice();
  off[3 * 5] += 0.002;
  for (const s of ["pcoreset", "entropy"]) {
    await refuses(
      select(s, { probs: { data: off, shape: [40, 5] } }, {}, 3, rng),
      /^probs: row 3 is not a probability vector/,
    );
  }
  off[3 * 5] -= 0.0015; // sum 1 + 5e-4: within the tolerance
  assert.equal(
    (await select("pcoreset", { probs: { data: off, shape: [40, 5] } }, {}, 3, rng)).length,
    3,
  );
});

gpuTest(
  "random, classbalanced and badge-kmeanspp: same seed, same picks; distinct rows",
  async () => {
    const { pool, labeled } = small();
    for (const s of ["random", "classbalanced", "badge-kmeanspp"]) {
      const a = Array.from(await select(s, pool, labeled, 12, Rng.fromSeed(7)));
      const b = Array.from(await select(s, pool, labeled, 12, Rng.fromSeed(7)));
      const c = Array.from(await select(s, pool, labeled, 12, Rng.fromSeed(8)));
      assert.deepEqual(a, b, s);
      assert.notDeepEqual(a, c, `${s}: another seed, other picks`);
      assert.equal(new Set(a).size, 12, `${s}: distinct`);
      assert.ok(a.every((i) => Number.isInteger(i) && i >= 0 && i < 40), s);
    }
    // The whole pool, and nothing.
    const all = await select("random", pool, labeled, 40, Rng.fromSeed(1));
    assert.deepEqual(
      Array.from(all).sort((x, y) => x - y),
      Array.from({ length: 40 }, (_, i) => i),
    );
    assert.equal((await select("pcoreset", pool, labeled, 0, Rng.fromSeed(1))).length, 0);
  },
);
