import assert from "node:assert/strict";
import {
  labeledBatches,
  labeledSteps,
  loadBatch,
  padToBatch,
  UnlabeledCycler,
} from "../../../al/data/loader.ts";
import { openIdx } from "../../../al/data/idx.ts";
import { Rng } from "../../../engine/rng.ts";
import { mnistLike, withTempDir, writeTree } from "./trees.ts";

Deno.test("padding repeats the first items up to a multiple of the batch", () => {
  assert.deepEqual(Array.from(padToBatch([5, 6, 7, 8, 9], 4)), [5, 6, 7, 8, 9, 5, 6, 7]);
  assert.deepEqual(Array.from(padToBatch([5, 6], 5)), [5, 6, 5, 6, 5]); // cyclically
  assert.deepEqual(Array.from(padToBatch([1, 2, 3, 4], 4)), [1, 2, 3, 4]);
});

Deno.test("labeled batches: repeat·⌈n/B⌉ steps of B, drawn with replacement from the padded list", () => {
  const labeled = [10, 20, 30, 40, 50];
  assert.equal(labeledSteps(5, 4, 200), 400);
  assert.equal(labeledSteps(64, 64, 200), 200);
  assert.equal(labeledSteps(65, 64, 200), 400);
  const batches = [...labeledBatches(labeled, 4, 200, Rng.fromSeed(3))];
  assert.equal(batches.length, 400);
  assert.ok(batches.every((b) => b.length === 4 && b.every((i) => labeled.includes(i))));
  // Padded list [10..50, 10, 20, 30]: 10, 20, 30 are drawn 2/8 of the time, 40 and 50 1/8.
  const counts = new Map<number, number>();
  for (const b of batches) for (const i of b) counts.set(i, (counts.get(i) ?? 0) + 1);
  const draws = 1600;
  for (const [i, p] of [[10, 2 / 8], [20, 2 / 8], [30, 2 / 8], [40, 1 / 8], [50, 1 / 8]]) {
    const sd = Math.sqrt(draws * p * (1 - p));
    assert.ok(Math.abs(counts.get(i)! - draws * p) < 4 * sd, `${i}: ${counts.get(i)}`);
  }
  const again = [...labeledBatches(labeled, 4, 200, Rng.fromSeed(3))];
  assert.deepEqual(again, batches);
});

Deno.test("unlabeled cycler: full batches, each pass a permutation of the padded pool, reshuffled", () => {
  const pool = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]; // padded to 12: 0 and 1 twice per pass
  const cycler = new UnlabeledCycler(pool, 4, Rng.fromSeed(9));
  const passes: number[][] = [];
  for (let p = 0; p < 4; p++) {
    const pass: number[] = [];
    for (let b = 0; b < 3; b++) {
      const batch = cycler.next();
      assert.equal(batch.length, 4);
      pass.push(...batch);
    }
    assert.equal(cycler.epoch, p + 1);
    assert.deepEqual([...pass].sort((a, b) => a - b), [0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    passes.push(pass);
  }
  assert.ok(new Set(passes.map((p) => p.join())).size > 1, "every pass in the same order");
  assert.throws(() => new UnlabeledCycler([], 4, Rng.fromSeed(1)), RangeError);
});

Deno.test("loadBatch returns images and labels in index order", async () => {
  await withTempDir(async (dir) => {
    await writeTree(dir, mnistLike(false));
    const { train } = (await openIdx(dir)).splits;
    const { images, labels } = await loadBatch(train, [3, 1, 3]);
    assert.deepEqual(Array.from(labels), [2, 2, 2]);
    assert.deepEqual(images[0], train.get(3));
    assert.deepEqual(images[1], train.get(1));
    assert.notDeepEqual(images[0], images[1]);
  });
});
