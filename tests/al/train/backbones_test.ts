import assert from "node:assert/strict";
import { buildStudent, loadPretrainedBackbone } from "../../../al/train/backbones.ts";
import { resnet18 } from "../../../models/resnet.ts";
import { InputError } from "../../../engine/errors.ts";
import { Rng } from "../../../engine/rng.ts";
import { loadSafetensors } from "../../../engine/safetensors.ts";
import { fixture } from "../../fixtures.ts";
import { gpuTest } from "../../gpu.ts";

gpuTest("students: dual heads on the backbone's features, names for checkpoints", () => {
  const s = buildStudent("resnet18", 10, 32, Rng.fromSeed(1));
  const names = [...s.stateDict().keys()];
  assert.ok(names.includes("backbone.layer4.1.bn2.running_var"));
  assert.ok(names.includes("ce_head.weight") && names.includes("kd_head.bias"));
  assert.ok(!names.some((n) => n.startsWith("backbone.fc.")), "the backbone keeps its fc");
  assert.deepEqual(s.ceHead.weight.shape, [10, 512]);
  s.dispose();
  const m = buildStudent("mobilenet_v2", 5, 32);
  assert.deepEqual(m.kdHead.weight.shape, [5, 1280]);
  m.dispose();
});

gpuTest(
  "pretrained: a torchvision checkpoint loads into the backbone, without its head",
  async () => {
    const path = fixture("resnet18", "model.safetensors");
    const backbone = resnet18({ numClasses: 0, width: 8 });
    await loadPretrainedBackbone(backbone, path);
    const expected = (await loadSafetensors(path)).tensors.get("layer3.0.conv1.weight")!;
    const got = backbone.stateDict().get("layer3.0.conv1.weight")!;
    // Conv weights may be stored in another layout on the device: compare as sets of values.
    const sorted = (a: ArrayLike<number>) => Float64Array.from(a).sort();
    assert.deepEqual(sorted(await got.read()), sorted(expected.data));
    const other = fixture("mobilenet_v2", "model.safetensors");
    await assert.rejects(
      loadPretrainedBackbone(backbone, other),
      (e) => e instanceof InputError && e.message.startsWith(other),
    );
    backbone.dispose();
  },
);
