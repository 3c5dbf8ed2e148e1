/** ResNet-18 (torchvision layout) against fixture C, state-dict names and load refusals. */
import assert from "node:assert/strict";
import { gpuTest } from "../gpu.ts";
import { fixture } from "../fixtures.ts";
import { resnet18 } from "../../models/resnet.ts";
import { checkTorchvisionCase } from "./torchvision_case.ts";
import { loadSafetensors } from "../../engine/safetensors.ts";
import { InputError } from "../../engine/errors.ts";

gpuTest("resnet18 matches fixture C: eval and train logits, gradients", async () => {
  const model = resnet18({ numClasses: 7, width: 8 });
  try {
    const checked = await checkTorchvisionCase("resnet18", model);
    assert.equal(checked.length, 9, `compared ${checked}`);
  } finally {
    model.dispose();
  }
});

gpuTest("resnet18 state dict names and shapes equal the fixture's, in order", async () => {
  const { tensors } = await loadSafetensors(fixture("resnet18", "model.safetensors"));
  const model = resnet18({ numClasses: 7, width: 8 });
  try {
    const ours = [...model.stateDict()].map(([n, t]) => `${n} [${t.shape}]`);
    const theirs = [...tensors].map(([n, t]) => `${n} [${t.shape}]`);
    assert.deepEqual(ours.toSorted(), theirs.toSorted());
  } finally {
    model.dispose();
  }
});

gpuTest("resnet18 refuses a state dict with a missing, extra or mis-shaped tensor", async () => {
  const { tensors } = await loadSafetensors(fixture("resnet18", "model.safetensors"));
  const bad = new Map(tensors);
  bad.delete("layer2.0.downsample.1.running_var");
  bad.set("fc.extra", tensors.get("fc.bias")!);
  bad.set("layer1.0.conv1.weight", tensors.get("layer1.0.conv2.weight")!);
  const fc = tensors.get("fc.weight")!;
  bad.set("fc.weight", { ...fc, shape: [fc.shape[1], fc.shape[0]] });
  const model = resnet18({ numClasses: 7, width: 8 });
  try {
    assert.throws(
      () => model.loadStateDict(bad, { source: "bad.safetensors" }),
      (e: Error) =>
        e instanceof InputError && /bad\.safetensors/.test(e.message) &&
        /missing \(1\): layer2\.0\.downsample\.1\.running_var/.test(e.message) &&
        /unexpected \(1\): fc\.extra/.test(e.message) &&
        /fc\.weight: expected f32\[7, 64\]/.test(e.message),
    );
  } finally {
    model.dispose();
  }
});
