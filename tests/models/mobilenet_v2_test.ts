/** MobileNetV2 (torchvision layout) against fixture D; _make_divisible; state-dict names. */
import assert from "node:assert/strict";
import { gpuTest } from "../gpu.ts";
import { fixture } from "../fixtures.ts";
import { makeDivisible, mobilenetV2 } from "../../models/mobilenet_v2.ts";
import { checkTorchvisionCase } from "./torchvision_case.ts";
import { loadSafetensors } from "../../engine/safetensors.ts";

gpuTest("mobilenet_v2 matches fixture D: eval and train logits, gradients", async () => {
  const model = mobilenetV2({ numClasses: 10 });
  try {
    const checked = await checkTorchvisionCase("mobilenet_v2", model);
    assert.equal(checked.length, 8, `compared ${checked}`);
  } finally {
    model.dispose();
  }
});

gpuTest("mobilenet_v2 state dict names and shapes equal the fixture's", async () => {
  const { tensors } = await loadSafetensors(fixture("mobilenet_v2", "model.safetensors"));
  const model = mobilenetV2({ numClasses: 10 });
  try {
    const ours = [...model.stateDict()].map(([n, t]) => `${n} [${t.shape}]`);
    const theirs = [...tensors].map(([n, t]) => `${n} [${t.shape}]`);
    assert.deepEqual(ours.toSorted(), theirs.toSorted());
  } finally {
    model.dispose();
  }
});

Deno.test("makeDivisible follows torchvision's _make_divisible", () => {
  // Values from torchvision.models._utils._make_divisible.
  const cases: [number, number, number][] = [
    [32, 8, 32],
    [32 * 0.5, 8, 16],
    [16 * 0.35, 8, 8],
    [24 * 0.75, 8, 24],
    [1280 * 1.4, 8, 1792],
    [96 * 0.35, 8, 32],
    [37, 8, 40],
    [19, 8, 24],
  ];
  for (const [v, d, want] of cases) assert.equal(makeDivisible(v, d), want, `${v}`);
});
