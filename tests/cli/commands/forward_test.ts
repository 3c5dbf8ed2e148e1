/** `akd forward` for the torchvision classifiers: fixture logits, shape inference, bad inputs. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { assertClose, gpuTest } from "../../gpu.ts";
import { fixture } from "../../fixtures.ts";
import { InputError } from "../../../engine/errors.ts";
import { loadSafetensors, saveSafetensors } from "../../../engine/safetensors.ts";
import { forwardClassifier } from "../../../cli/commands/forward.ts";
import { optionsForStateDict } from "../../../models/registry.ts";
import { withTempDir as withTemp } from "../../temp_dir.ts";

gpuTest("forward writes the fixtures' eval logits (cases C and D)", async () => {
  // tolerance_hint.atol_tight of "output" in each case.json.
  for (const [model, atol] of [["resnet18", 8e-5], ["mobilenet_v2", 4e-5]] as const) {
    await withTemp(async (tmp) => {
      const out = join(tmp, "out.safetensors");
      const io = fixture(model, "io.safetensors");
      const shape = await forwardClassifier(model, fixture(model, "model.safetensors"), io, out);
      const want = (await loadSafetensors(io)).tensors.get("output")!;
      assert.deepEqual(shape, want.shape);
      const got = (await loadSafetensors(out)).tensors.get("output")!;
      assertClose(got.data, want.data, { rtol: 1e-4, atol, what: model });
    });
  }
}, { oneBackend: true });

Deno.test("the model's shape is read from the state dict", async () => {
  const r = (await loadSafetensors(fixture("resnet18", "model.safetensors"))).tensors;
  assert.deepEqual(optionsForStateDict("resnet18", r, "r"), { numClasses: 7, width: 8 });
  const m = (await loadSafetensors(fixture("mobilenet_v2", "model.safetensors"))).tensors;
  assert.deepEqual(optionsForStateDict("mobilenet_v2", m, "m"), { numClasses: 10, widthMult: 1 });
  assert.throws(
    () => optionsForStateDict("mobilenet_v2", r, "r.safetensors"),
    (e: Error) =>
      e instanceof InputError && /r\.safetensors: not a mobilenet_v2 state dict/.test(e.message),
  );
});

gpuTest("forward refuses a missing input tensor and mismatched weights", async () => {
  await withTemp(async (tmp) => {
    const weights = fixture("resnet18", "model.safetensors");
    const io = (await loadSafetensors(fixture("resnet18", "io.safetensors"))).tensors;
    const noInput = join(tmp, "none.safetensors");
    await saveSafetensors(noInput, new Map([["image", io.get("input")!]]));
    await assert.rejects(
      forwardClassifier("resnet18", weights, noInput, join(tmp, "o.safetensors")),
      (e: Error) =>
        e instanceof InputError && /none\.safetensors: no "input" tensor/.test(e.message),
    );
    const input = join(tmp, "in.safetensors");
    await saveSafetensors(input, new Map([["input", io.get("input")!]]));
    const bad = new Map((await loadSafetensors(weights)).tensors);
    bad.delete("layer1.0.bn1.running_mean");
    const badPath = join(tmp, "bad.safetensors");
    await saveSafetensors(badPath, bad);
    await assert.rejects(
      forwardClassifier("resnet18", badPath, input, join(tmp, "o.safetensors")),
      (e: Error) =>
        e instanceof InputError && /bad\.safetensors: missing \(1\): layer1\.0\.bn1\.running_mean/
          .test(e.message),
    );
    await assert.rejects(Deno.stat(join(tmp, "o.safetensors")));
  });
}, { oneBackend: true });
