/** CLAP's α weights and SGD fit against Debian PyTorch (fixtures/clap_reference.json). */
import assert from "node:assert/strict";
import { clapAlphas, clapSteps, fitClap } from "../../../al/teachers/clap_fit.ts";
import { engine } from "../../../engine/context.ts";
import { tensor } from "../../../engine/tensor.ts";
import { assertClose, gpuTest } from "../../gpu.ts";

const ref = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/clap_reference.json", import.meta.url)),
);

Deno.test("CLAP: α_c from the zero-shot probabilities of each class's labeled images", () => {
  const alphas = clapAlphas(
    Float32Array.from(ref.labeled_features),
    Int32Array.from(ref.labeled_labels),
    Float32Array.from(ref.w),
    ref.C,
  );
  assertClose(alphas, ref.alpha, { rtol: 1e-5, atol: 1e-7, what: "alpha" });
  assert.equal(alphas[3], 0, "a class without labels gets α = 0");
  assert.equal(clapSteps(10), 46); // ⌊10·300/64⌋
  assert.equal(clapSteps(64), 300);
});

gpuTest("CLAP: the SGD fit of the prototypes matches PyTorch", async () => {
  const live = engine().pool.liveBytes;
  const raw = tensor(ref.w_raw, [ref.E, ref.C]);
  const { prototypes, losses } = await fitClap(
    raw,
    Float64Array.from(ref.alpha),
    ref.steps,
    (k) =>
      Promise.resolve({
        features: tensor(ref.batches[k].features, [ref.batches[k].labels.length, ref.E]),
        labels: Int32Array.from(ref.batches[k].labels),
      }),
  );
  assertClose(losses, ref.losses, { rtol: 1e-4, atol: 1e-5, what: "losses" });
  assertClose(await prototypes.read(), ref.prototypes, { rtol: 1e-4, atol: 1e-6, what: "P" });
  prototypes.dispose();
  raw.dispose();
  assert.equal(engine().pool.liveBytes, live, "CLAP fit leaked GPU memory");
}, { oneBackend: true });
