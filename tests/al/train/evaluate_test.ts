import assert from "node:assert/strict";
import {
  accuracy,
  argmaxRows,
  headAccuracies,
  interpolatedProbs,
  selectionProbs,
  softmaxRows,
} from "../../../al/train/evaluate.ts";
import { assertClose } from "../../gpu.ts";

Deno.test("evaluate: softmax with temperature, stable for large logits", () => {
  const p = softmaxRows(Float32Array.of(1000, 1000 + Math.log(3), 0, Math.log(2)), 2, 1);
  assertClose(p, [0.25, 0.75, 1 / 3, 2 / 3], { rtol: 1e-4, atol: 1e-12 }); // f32 ulp at 1000
  const t = softmaxRows(Float32Array.of(0, 2 * Math.log(3)), 2, 2);
  assertClose(t, [0.25, 0.75], { rtol: 1e-6, atol: 1e-12 });
});

Deno.test("evaluate: α/β interpolation (docs/method.md §1)", () => {
  // ce row → (0.25, 0.75); kd/β with β = 2 → (0.5, 0.5).
  const ce = Float32Array.of(0, Math.log(3));
  const kd = Float32Array.of(1, 1);
  assertClose(interpolatedProbs(ce, kd, 2, 0.5, 2), [0.375, 0.625], { rtol: 1e-6, atol: 1e-12 });
  assertClose(interpolatedProbs(ce, kd, 2, 0, 1), [0.25, 0.75], { rtol: 1e-6, atol: 1e-12 });
  assertClose(interpolatedProbs(ce, kd, 2, 1, 1), [0.5, 0.5], { rtol: 1e-6, atol: 1e-12 });
  assertClose(selectionProbs(ce, kd, 2), [0.375, 0.625], { rtol: 1e-6, atol: 1e-12 });
});

Deno.test("evaluate: argmax takes the first index on ties; per-head accuracies differ", () => {
  assert.deepEqual(Array.from(argmaxRows([1, 3, 3, 0, 0, 0], 3)), [1, 0]);
  assert.equal(accuracy([1, 0, 0, 1, 1, 0], [0, 1, 1], 2), 2 / 3);
  assert.throws(() => accuracy([1, 0], [0, 1], 2), /2 values for 2 labels/);
  // Row 0: ce says 1, kd says 0 strongly; row 1: both say 1.
  const ce = Float32Array.of(0, 1, 0, 5);
  const kd = Float32Array.of(8, 0, 0, 5);
  const acc = headAccuracies(ce, kd, [0, 1], 2, 0.5, 1);
  assert.deepEqual(acc, { accuracy: 1, accuracy_ce: 0.5, accuracy_kd: 1 });
  assert.equal(headAccuracies(ce, kd, [0, 1], 2, 0, 1).accuracy, 0.5);
});
