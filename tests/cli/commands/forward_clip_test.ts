import assert from "node:assert/strict";
import { join } from "node:path";
import { assertClose, gpuTest } from "../../gpu.ts";
import { fixture } from "../../fixtures.ts";
import { InputError } from "../../../engine/errors.ts";
import { loadSafetensors, saveSafetensors } from "../../../engine/safetensors.ts";
import { forwardClip } from "../../../cli/commands/forward_clip.ts";

gpuTest("forwardClip writes the fixture's features and logits (case A)", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const out = join(tmp, "out.safetensors");
    const io = fixture("clip_rn", "io.safetensors");
    const written = await forwardClip(fixture("clip_rn", "model.safetensors"), io, out);
    assert.deepEqual(written, ["image_features", "text_features", "logits_per_image"]);
    const got = (await loadSafetensors(out)).tensors;
    const want = (await loadSafetensors(io)).tensors;
    // case.json tolerances of case A.
    const atol = { image_features: 6e-4, text_features: 4e-5, logits_per_image: 1e-4 };
    for (const [name, a] of Object.entries(atol)) {
      assert.deepEqual(got.get(name)!.shape, want.get(name)!.shape);
      assertClose(got.get(name)!.data, want.get(name)!.data, { rtol: 1e-4, atol: a, what: name });
    }
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}, { oneBackend: true });

gpuTest(
  "forwardClip with text only writes text features only; bad inputs are InputErrors",
  async () => {
    const tmp = await Deno.makeTempDir();
    try {
      const weights = fixture("clip_vit", "model.safetensors");
      const io = (await loadSafetensors(fixture("clip_vit", "io.safetensors"))).tensors;
      const textOnly = join(tmp, "text.safetensors");
      await saveSafetensors(textOnly, { text: io.get("text")! });
      const out = join(tmp, "out.safetensors");
      assert.deepEqual(await forwardClip(weights, textOnly, out), ["text_features"]);

      const empty = join(tmp, "empty.safetensors");
      await saveSafetensors(empty, { other: io.get("text")! });
      await assert.rejects(
        forwardClip(weights, empty, out),
        (e) => e instanceof InputError && e.message.startsWith(`${empty}: has neither`),
      );
      const floatText = join(tmp, "float_text.safetensors");
      await saveSafetensors(floatText, { text: io.get("image")! });
      await assert.rejects(forwardClip(weights, floatText, out), /"text" must be integer/);
      await assert.rejects(
        forwardClip(join(tmp, "missing.safetensors"), textOnly, out),
        (e) => e instanceof InputError && /missing\.safetensors: no such file/.test(e.message),
      );
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
  { oneBackend: true },
);
