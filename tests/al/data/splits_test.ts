import assert from "node:assert/strict";
import { join } from "node:path";
import {
  complement,
  fewShotSplit,
  readLabeledIndices,
  writeLabeledIndices,
} from "../../../al/data/splits.ts";
import { Rng } from "../../../engine/rng.ts";
import { InputError } from "../../../engine/errors.ts";
import { withTempDir } from "./trees.ts";

// 26 train images, classes interleaved: class 2 once (index 0), class 1 at 3, 7, 11, 15, 19,
// class 0 everywhere else (20 images).
const CLASS1 = [3, 7, 11, 15, 19];
const labels = Int32Array.from(
  { length: 26 },
  (_, i) => (i === 0 ? 2 : CLASS1.includes(i) ? 1 : 0),
);

Deno.test("few-shot split: k per class, class by class, the rest ascending", () => {
  const { labeled, unlabeled } = fewShotSplit(labels, 3, Rng.fromSeed(1));
  assert.deepEqual(Array.from(labeled, (i) => labels[i]), [0, 0, 0, 1, 1, 1, 2]); // class 2 has 1
  assert.equal(new Set(labeled).size, labeled.length);
  assert.deepEqual(
    [...labeled, ...unlabeled].sort((a, b) => a - b),
    Array.from({ length: 26 }, (_, i) => i),
  );
  assert.deepEqual(Array.from(unlabeled), [...unlabeled].sort((a, b) => a - b));
});

Deno.test("few-shot split: same seed same indices, another seed others", () => {
  const a = fewShotSplit(labels, 2, Rng.fromSeed(5));
  const b = fewShotSplit(labels, 2, Rng.fromSeed(5));
  assert.deepEqual(a, b);
  const others = [6, 7, 8].map((s) => fewShotSplit(labels, 2, Rng.fromSeed(s)).labeled);
  assert.ok(others.some((o) => o.join() !== a.labeled.join()), "three other seeds all agreed");
});

Deno.test("few-shot split: every image of a class is equally likely (chi-square)", () => {
  // Class 1 has 5 images; 1 shot; 2000 seeds. Expected 400 each; chi2(4) < 18.5 at p = 0.001.
  const counts = new Map<number, number>();
  for (let s = 0; s < 2000; s++) {
    const pick = fewShotSplit(labels, 1, Rng.fromSeed(s)).labeled[1];
    counts.set(pick, (counts.get(pick) ?? 0) + 1);
  }
  assert.deepEqual([...counts.keys()].sort((a, b) => a - b), CLASS1);
  const chi2 = [...counts.values()].reduce((s, c) => s + (c - 400) ** 2 / 400, 0);
  assert.ok(chi2 < 18.5, `chi2 = ${chi2}`);
});

Deno.test("complement and labeled-index files (round trip, bad files)", async () => {
  assert.deepEqual(Array.from(complement(6, [4, 1])), [0, 2, 3, 5]);
  await withTempDir(async (dir) => {
    const file = join(dir, "labeled.json");
    await writeLabeledIndices(file, Int32Array.of(7, 3, 11));
    assert.equal(await Deno.readTextFile(file), "[7,3,11]\n");
    assert.deepEqual(Array.from(await readLabeledIndices(file, 12)), [7, 3, 11]);
    await assert.rejects(
      readLabeledIndices(file, 11),
      (e) =>
        e instanceof InputError && e.message === `${file}: entry 2 (11) is not an index in 0..10`,
    );
    for (
      const [text, pattern] of [
        ["[1, 1]", /index 1 appears twice/],
        ["[1.5]", /entry 0 \(1\.5\)/],
        ['{"a": 1}', /expected a JSON list/],
        ["[1,", /cannot read labeled indices/],
      ] as const
    ) {
      await Deno.writeTextFile(file, text);
      await assert.rejects(
        readLabeledIndices(file, 12),
        (e) => e instanceof InputError && e.message.startsWith(file) && pattern.test(e.message),
      );
    }
    assert.deepEqual((await Array.fromAsync(Deno.readDir(dir))).length, 1); // no temp left
    // A failed write (a folder in the way of the rename) leaves no temporary file behind.
    const blocked = join(dir, "blocked.json");
    await Deno.mkdir(join(blocked, "sub"), { recursive: true });
    await assert.rejects(writeLabeledIndices(blocked, [1]));
    const names = (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
    assert.deepEqual(names, ["blocked.json", "labeled.json"]);
  });
});
