import assert from "node:assert/strict";
import { assertClose, gpuTest } from "../../gpu.ts";
import { MultiheadAttention } from "../../../engine/nn/multihead_attention.ts";
import type { HostTensor } from "../../../engine/safetensors.ts";
import { backward } from "../../../engine/ops/backward.ts";
import { mul, sum } from "../../../engine/ops/mod.ts";
import { requireGrad } from "../../../engine/autograd.ts";
import { scopeAsync, tensor } from "../../../engine/tensor.ts";
import { Rng } from "../../../engine/rng.ts";

interface Case {
  name: string;
  L: number;
  S: number;
  mask: "causal" | "additive" | null;
  self: boolean;
  query: number[];
  key: number[] | null;
  value: number[] | null;
  attn_mask: (number | null)[] | null;
  out: number[];
  probe: number[];
  grad_query: number[];
  grad_in_proj_weight: number[];
  grad_out_proj_weight: number[];
}

const fixture: {
  embed_dim: number;
  num_heads: number;
  batch: number;
  state: Record<string, number[]>;
  cases: Case[];
} = JSON.parse(Deno.readTextFileSync(new URL("./fixtures/mha.json", import.meta.url)));
const E = fixture.embed_dim, B = fixture.batch;
const SHAPES: Record<string, number[]> = {
  in_proj_weight: [3 * E, E],
  in_proj_bias: [3 * E],
  "out_proj.weight": [E, E],
  "out_proj.bias": [E],
};

function loadFixtureWeights(mha: MultiheadAttention): void {
  const state = new Map<string, HostTensor>();
  for (const [name, data] of Object.entries(fixture.state)) {
    state.set(name, { dtype: "f32", shape: SHAPES[name], data: Float32Array.from(data) });
  }
  mha.loadStateDict(state);
}

gpuTest(
  "MultiheadAttention matches torch (self, causal, cross + additive mask): out, grads",
  async () => {
    const mha = new MultiheadAttention(E, fixture.num_heads);
    assert.deepEqual([...mha.stateDict().keys()], Object.keys(SHAPES));
    loadFixtureWeights(mha);
    for (const c of fixture.cases) {
      await scopeAsync(async () => {
        const query = requireGrad(tensor(c.query, [c.L, B, E]));
        const key = c.key ? tensor(c.key, [c.S, B, E]) : query;
        const value = c.value ? tensor(c.value, [c.S, B, E]) : query;
        const attnMask = c.attn_mask
          ? tensor(c.attn_mask.map((v) => v ?? -Infinity), [c.L, c.S])
          : undefined;
        const out = mha.forward(query, key, value, { attnMask, causal: c.mask === "causal" });
        assert.deepEqual(out.shape, [c.L, B, E]);
        // float32 against float32 with a different summation order.
        const tol = { rtol: 1e-4, atol: 1e-5 };
        assertClose(await out.read(), c.out, { ...tol, what: `${c.name}: out` });
        backward(sum(mul(out, tensor(c.probe, out.shape))));
        assertClose(await query.grad!.read(), c.grad_query, { ...tol, what: `${c.name}: dq` });
        assertClose(await mha.inProjWeight.grad!.read(), c.grad_in_proj_weight, {
          ...tol,
          what: `${c.name}: d in_proj_weight`,
        });
        assertClose(await mha.outProj.weight.grad!.read(), c.grad_out_proj_weight, {
          ...tol,
          what: `${c.name}: d out_proj.weight`,
        });
        mha.zeroGrad();
      });
    }
    mha.dispose();
  },
);

gpuTest("MultiheadAttention: causal flag equals the explicit −inf mask; init bounds", async () => {
  const mha = new MultiheadAttention(8, 2, { rng: Rng.fromSeed(4) });
  const w = await mha.inProjWeight.read();
  const bound = Math.sqrt(6 / (8 + 24));
  assert.ok(w.every((v) => Math.abs(v) <= bound) && w.some((v) => Math.abs(v) > bound / 2));
  assert.ok((await mha.outProj.bias!.read()).every((v) => v === 0));
  await scopeAsync(async () => {
    const x = tensor(Float32Array.from({ length: 5 * 3 * 8 }, (_, i) => Math.sin(i)), [5, 3, 8]);
    const mask = tensor(
      Float32Array.from({ length: 25 }, (_, i) => (i % 5 > Math.floor(i / 5) ? -Infinity : 0)),
      [5, 5],
    );
    const a = await mha.forward(x, x, x, { causal: true }).read();
    const b = await mha.forward(x, x, x, { attnMask: mask }).read();
    assert.deepEqual(a, b);
    assert.throws(() => mha.forward(tensor(new Float32Array(12), [3, 4])), /not \[L, B, 8\]/);
  });
  mha.dispose();
});
