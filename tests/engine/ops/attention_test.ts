import assert from "node:assert/strict";
import { assertClose, gpuTest, randomData } from "../../gpu.ts";
import { gradcheck } from "../../gradcheck.ts";
import { causalMask, scaledDotProductAttention } from "../../../engine/ops/attention.ts";
import { scopeAsync, tensor } from "../../../engine/tensor.ts";
import { causalMaskReference } from "../../../kernels/attention/causal_mask.ts";

const [B, H, L, S, DH, DV] = [2, 2, 3, 4, 3, 2];

/** float64 softmax(q·kᵀ/√Dh + mask)·v over B·H independent heads. */
function attentionReference(
  q: ArrayLike<number>,
  k: ArrayLike<number>,
  v: ArrayLike<number>,
  mask?: ArrayLike<number>,
  causal = false,
  heads = B * H,
): Float64Array {
  const out = new Float64Array(heads * L * DV);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < L; i++) {
      const s = new Float64Array(S);
      for (let j = 0; j < S; j++) {
        let dot = 0;
        for (let d = 0; d < DH; d++) dot += q[(h * L + i) * DH + d] * k[(h * S + j) * DH + d];
        s[j] = dot / Math.sqrt(DH) + (mask ? mask[i * S + j] : 0) +
          (causal && j > i ? -Infinity : 0);
      }
      const max = Math.max(...s);
      const e = s.map((x) => Math.exp(x - max));
      const z = e.reduce((a, b) => a + b, 0);
      for (let j = 0; j < S; j++) {
        for (let d = 0; d < DV; d++) {
          out[(h * L + i) * DV + d] += (e[j] / z) * v[(h * S + j) * DV + d];
        }
      }
    }
  }
  return out;
}

const q = { data: randomData(B * H * L * DH, 1, -1.5, 1.5), shape: [B, H, L, DH] };
const k = { data: randomData(B * H * S * DH, 2, -1.5, 1.5), shape: [B, H, S, DH] };
const v = { data: randomData(B * H * S * DV, 3), shape: [B, H, S, DV] };
// An additive mask with a hidden key (−inf) and soft biases.
const maskData = Float32Array.from(randomData(L * S, 4), (x, i) => (i % 5 === 3 ? -Infinity : x));

gpuTest("causal mask kernel", async () => {
  await scopeAsync(async () => {
    assert.deepEqual([...(await causalMask(3, 5).read())], [...causalMaskReference(3, 5)]);
  });
});

gpuTest("attention forward matches a float64 reference (plain, causal, masked)", async () => {
  await scopeAsync(async () => {
    const [tq, tk, tv] = [q, k, v].map((x) => tensor(x.data, x.shape));
    const mask = tensor(maskData, [L, S]);
    for (
      const [name, opts, ref] of [
        ["plain", {}, attentionReference(q.data, k.data, v.data)],
        ["causal", { causal: true }, attentionReference(q.data, k.data, v.data, undefined, true)],
        ["masked", { mask }, attentionReference(q.data, k.data, v.data, maskData)],
      ] as const
    ) {
      const out = scaledDotProductAttention(tq, tk, tv, opts);
      assert.deepEqual(out.shape, [B, H, L, DV]);
      assertClose(await out.read(), ref, { rtol: 1e-5, atol: 1e-6, what: name });
    }
  });
});

gpuTest("attention gradients (q, k, v) by finite differences: causal", async () => {
  await gradcheck(
    "attention causal",
    [q, k, v],
    ([a, b, c]) => scaledDotProductAttention(a, b, c, { causal: true }),
    ([a, b, c]) => attentionReference(a, b, c, undefined, true),
  );
});

gpuTest("attention gradients (q, k, v, mask) by finite differences: additive mask", async () => {
  const finiteMask = randomData(L * S, 6);
  await gradcheck(
    "attention masked",
    [q, k, v, { data: finiteMask, shape: [L, S] }],
    ([a, b, c, m]) => scaledDotProductAttention(a, b, c, { mask: m }),
    ([a, b, c, m]) => attentionReference(a, b, c, m),
  );
  // A −inf entry passes no gradient through its key; the mask itself is not differentiated.
  await gradcheck(
    "attention -inf mask",
    [q, k, v],
    ([a, b, c]) => scaledDotProductAttention(a, b, c, { mask: tensor(maskData, [L, S]) }),
    ([a, b, c]) => attentionReference(a, b, c, maskData),
  );
});
