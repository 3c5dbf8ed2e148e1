import assert from "node:assert/strict";
import { assertClose, gpuTest, randomData } from "../../gpu.ts";
import { gradcheck } from "../../gradcheck.ts";
import { embedding } from "../../../engine/ops/embedding.ts";
import { backward } from "../../../engine/ops/backward.ts";
import { mul, sum } from "../../../engine/ops/mod.ts";
import { keep, scopeAsync, tensor } from "../../../engine/tensor.ts";
import { requireGrad } from "../../../engine/autograd.ts";
import {
  embeddingBackwardReference,
  embeddingReference,
} from "../../../kernels/embedding/embedding.ts";

gpuTest(
  "embedding forward matches the reference, incl. out-of-range ids and batch dims",
  async () => {
    const [vocab, dim] = [11, 5];
    const w = randomData(vocab * dim, 3);
    const ids = Int32Array.from([3, 0, 10, 3, -1, 11, 7, 3]);
    await scopeAsync(async () => {
      const out = embedding(tensor(w, [vocab, dim]), tensor(ids, [2, 4]));
      assert.deepEqual(out.shape, [2, 4, dim]);
      assertClose(await out.read(), embeddingReference(w, ids, vocab, dim), { rtol: 0, atol: 0 });
    });
  },
);

gpuTest("embedding gradient: finite differences with repeated ids", async () => {
  const [vocab, dim] = [6, 3];
  const ids = Int32Array.from([2, 5, 2, 0, 2, 5, 1]);
  await gradcheck(
    "embedding",
    [{ data: randomData(vocab * dim, 4), shape: [vocab, dim] }],
    ([w]) => embedding(w, tensor(ids, [ids.length])),
    ([w]) => embeddingReference(w, ids, vocab, dim),
  );
});

gpuTest("embedding backward: many positions over several chunks, bit-identical twice", async () => {
  // 700 positions (3 workgroup chunks) over a small vocabulary: long duplicate lists.
  const [vocab, dim, n] = [37, 300, 700];
  const ids = Int32Array.from({ length: n }, (_, i) => (i * 7919) % vocab);
  const probe = randomData(n * dim, 8);
  const grads = [];
  for (let run = 0; run < 2; run++) {
    grads.push(
      await scopeAsync(async () => {
        const w = keep(requireGrad(tensor(randomData(vocab * dim, 5), [vocab, dim])));
        backward(sum(mul(embedding(w, tensor(ids, [n])), tensor(probe, [n, dim]))));
        const g = await w.grad!.read();
        w.dispose();
        return g;
      }),
    );
  }
  assertClose(grads[0], embeddingBackwardReference(probe, ids, vocab, dim), {
    rtol: 1e-5,
    atol: 1e-5,
    what: "grad weight",
  });
  assert.deepEqual(grads[0], grads[1]);
});
