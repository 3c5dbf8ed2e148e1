import assert from "node:assert/strict";
import { experimentSplits } from "../../../al/loop/experiment_data.ts";
import { resolveConfig } from "../../../al/config.ts";
import type { Dataset, ImageSet } from "../../../al/data/image.ts";
import { InputError } from "../../../engine/errors.ts";

function set(n: number): ImageSet {
  return {
    length: n,
    labels: Int32Array.from({ length: n }, (_, i) => i % 5),
    get: () => {
      throw new Error("no pixels here");
    },
    source: (i) => `#${i}`,
  };
}

const ds: Dataset = {
  name: "five",
  classes: ["a", "b", "c", "d", "e"],
  splits: { train: set(300), val: set(0), test: set(80) },
};

Deno.test("experiment splits: holdout slice out of play, subsets drawn once with seed 0", () => {
  const config = resolveConfig({
    teacher: "holdout-classifier",
    teacherHoldout: 50,
    trainSize: 120,
    testSize: 30,
  });
  const { data, held } = experimentSplits(ds, config);
  assert.equal(held.length, 50);
  assert.equal(data.heldOut, 50);
  assert.equal(data.train.length, 120);
  assert.equal(data.test.length, 30);
  const heldSet = new Set(held);
  assert.ok(data.train.every((i) => !heldSet.has(i)), "a held-out image is in play");
  for (const a of [held, data.train, data.test]) {
    assert.ok(a.every((v, k) => k === 0 || a[k - 1] < v), "not ascending");
  }
  assert.deepEqual(Array.from(data.testLabels), Array.from(data.test, (i) => i % 5));
  // Deterministic: the same draw every time; independent of the seeds of the run.
  const again = experimentSplits(ds, resolveConfig({ ...config, seeds: [9] }));
  assert.deepEqual(again.data.train, data.train);
  assert.deepEqual(again.held, held);
});

Deno.test("experiment splits: everything in play without subsets or a holdout teacher", () => {
  const { data, held } = experimentSplits(ds, resolveConfig({ teacher: "clip-zeroshot" }));
  assert.equal(held.length, 0);
  assert.equal(data.train.length, 300);
  assert.equal(data.test.length, 80);
  assert.throws(
    () =>
      experimentSplits(ds, resolveConfig({ teacher: "holdout-classifier", teacherHoldout: 300 })),
    (e) => e instanceof InputError && /teacherHoldout 300 leaves no pool/.test(e.message),
  );
  assert.throws(
    () => experimentSplits(ds, resolveConfig({ trainSize: 5, shots: 1 })),
    (e) => e instanceof InputError && /cannot hold 1 shot/.test(e.message),
  );
});
