/** BADGE's k-means++ variant against a float64 reference on the explicit gradient embedding. */
import assert from "node:assert/strict";
import { gpuTest } from "../../gpu.ts";
import { fixture } from "../../fixtures.ts";
import { loadSafetensors } from "../../../engine/safetensors.ts";
import { Rng } from "../../../engine/rng.ts";
import { badgeKmeansppSelect, sampleByDistance } from "../../../al/strategies/badge.ts";
import { argmaxFirst } from "../../../kernels/distance/pack.ts";
import type { HostMatrix } from "../../../al/strategies/types.ts";

/** g = (onehot(argmax p) - p) (outer) h, flattened class-major, in float64. */
function embeddings(p: HostMatrix, h: HostMatrix): Float64Array[] {
  const [n, c] = p.shape, d = h.shape[1];
  return Array.from({ length: n }, (_, r) => {
    const pr = p.data.subarray(r * c, (r + 1) * c), hr = h.data.subarray(r * d, (r + 1) * d);
    const top = argmaxFirst(pr);
    const g = new Float64Array(c * d);
    for (let i = 0; i < c; i++) {
      for (let j = 0; j < d; j++) g[i * d + j] = ((i === top ? 1 : 0) - pr[i]) * hr[j];
    }
    return g;
  });
}

/** k-means++ seeding (Arthur & Vassilvitskii) with the largest-norm first pick, as BADGE. */
function kmeansppReference(g: Float64Array[], k: number, rng: Rng): number[] {
  const sq = (a: Float64Array, b: Float64Array) => a.reduce((s, v, i) => s + (v - b[i]) ** 2, 0);
  const norms = g.map((x) => x.reduce((s, v) => s + v * v, 0));
  const picks = [norms.indexOf(Math.max(...norms))];
  const d2 = g.map((x) => sq(x, g[picks[0]]));
  while (picks.length < k) {
    const w = d2.map((v, i) => (picks.includes(i) ? 0 : v));
    const u = rng.uniform() * w.reduce((a, b) => a + b, 0);
    let acc = 0, next = -1;
    for (let i = 0; i < w.length && next < 0; i++) if (w[i] > 0 && (acc += w[i]) > u) next = i;
    picks.push(next);
    g.forEach((x, i) => d2[i] = Math.min(d2[i], sq(x, g[next])));
  }
  return picks;
}

gpuTest(
  "badge-kmeanspp draws the picks the float64 reference draws from the same seed",
  async () => {
    const { tensors } = await loadSafetensors(fixture("select", "select_0.safetensors"));
    const p = tensors.get("probs") as HostMatrix, h = tensors.get("features") as HostMatrix;
    const want = kmeansppReference(embeddings(p, h), 16, Rng.fromSeed(5));
    const got = await badgeKmeansppSelect(p, h, 16, Rng.fromSeed(5));
    assert.deepEqual(Array.from(got), want);
  },
  // One backend, like the fixture selections in mod_test.ts: its kernels are tested on both.
  { oneBackend: true },
);

Deno.test("sampleByDistance: proportional to the distance, selected rows never drawn", () => {
  const d = Float32Array.from([1, -Infinity, 3, 0]);
  const rng = Rng.fromSeed(3);
  const counts = [0, 0, 0, 0];
  for (let i = 0; i < 4000; i++) counts[sampleByDistance(d, rng)]++;
  assert.equal(counts[1] + counts[3], 0);
  // Expected 1000 and 3000; 6 standard deviations (~27) of a binomial each way.
  assert.ok(Math.abs(counts[0] - 1000) < 170, `${counts}`);
  // All left rows sit on centers: any of them, uniformly.
  const zero = Float32Array.from([0, -Infinity, 0]);
  const seen = new Set(Array.from({ length: 50 }, () => sampleByDistance(zero, rng)));
  assert.deepEqual([...seen].sort(), [0, 2]);
});
