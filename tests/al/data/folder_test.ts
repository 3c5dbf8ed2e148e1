import assert from "node:assert/strict";
import { join } from "node:path";
import { FOLDER_SPLIT, openFolder } from "../../../al/data/folder.ts";
import { FileImageSet } from "../../../al/data/files.ts";
import { verifyDataset } from "../../../al/data/verify.ts";
import { InputError } from "../../../engine/errors.ts";
import { JPEG, PNG, TRUNCATED_JPEG, withTempDir, writeTree } from "./trees.ts";

Deno.test("ImageFolder with train/ and val/: sorted classes, recursive sorted files, val as test", async () => {
  await withTempDir(async (dir) => {
    await writeTree(dir, {
      "train/zebra/b.png": PNG,
      "train/zebra/a.jpg": JPEG,
      "train/Apple/sub/z.JPG": JPEG,
      "train/Apple/m.png": PNG,
      "train/Apple/readme.txt": "not an image: ignored by extension, as torchvision does",
      "train/.hidden/x.jpg": JPEG,
      "train/cat/c.jpeg": JPEG,
      "val/cat/v.jpg": JPEG,
      "val/zebra/w.png": PNG,
    });
    const ds = await openFolder(dir);
    assert.deepEqual(ds.classes, ["Apple", "cat", "zebra"]); // code-unit order, as Python's sort
    const train = ds.splits.train as FileImageSet;
    assert.deepEqual(train.paths.map((p) => p.slice(dir.length + 1)), [
      "train/Apple/m.png",
      "train/Apple/sub/z.JPG",
      "train/cat/c.jpeg",
      "train/zebra/a.jpg",
      "train/zebra/b.png",
    ]);
    assert.deepEqual(Array.from(train.labels), [0, 0, 1, 2, 2]);
    assert.deepEqual(Array.from(ds.splits.val.labels), [1, 2]);
    assert.equal(ds.splits.test, ds.splits.val);
    const img = await train.get(0);
    assert.deepEqual([img.width, img.height], [16, 12]);
  });
});

Deno.test("ImageFolder: a val/ class unknown to train/ is an InputError", async () => {
  await withTempDir(async (dir) => {
    await writeTree(dir, { "train/a/1.jpg": JPEG, "test/b/2.jpg": JPEG });
    await assert.rejects(
      openFolder(dir),
      (e) =>
        e instanceof InputError &&
        e.message === `${join(dir, "test", "b")}: class "b" is not in the train split`,
    );
  });
});

async function flatTree(dir: string, perClass: number[]) {
  const files: Record<string, Uint8Array> = {};
  perClass.forEach((n, c) => {
    for (let i = 0; i < n; i++) files[`class${c}/img${String(i).padStart(3, "0")}.jpg`] = JPEG;
  });
  await writeTree(dir, files);
}

Deno.test("ImageFolder without train/: seeded stratified 50/20/30 split", async () => {
  await withTempDir(async (dir) => {
    await flatTree(dir, [10, 7, 20]);
    const a = await openFolder(dir, { seed: 1 });
    const b = await openFolder(dir, { seed: 1 });
    const c = await openFolder(dir, { seed: 2 });
    const paths = (d: typeof a, s: "train" | "val" | "test") => (d.splits[s] as FileImageSet).paths;
    for (const s of ["train", "val", "test"] as const) assert.deepEqual(paths(a, s), paths(b, s));
    assert.notDeepEqual(paths(a, "train"), paths(c, "train"));
    const count = (d: typeof a, s: "train" | "val" | "test", y: number) =>
      d.splits[s].labels.filter((l) => l === y).length;
    [10, 7, 20].forEach((n, y) => {
      const nTrain = Math.round(n * FOLDER_SPLIT.train);
      const nVal = Math.round(n * FOLDER_SPLIT.val);
      assert.deepEqual(
        [count(a, "train", y), count(a, "val", y), count(a, "test", y)],
        [nTrain, nVal, n - nTrain - nVal],
      );
    });
    const all = new Set([...paths(a, "train"), ...paths(a, "val"), ...paths(a, "test")]);
    assert.equal(all.size, 37); // a partition: nothing lost, nothing twice
    const sorted = [...paths(a, "train")].sort();
    assert.deepEqual(paths(a, "train"), sorted); // folder order within a split
  });
});

Deno.test("ImageFolder: truncated JPEG and a non-image .jpg fail naming the file; skipBad counts", async () => {
  await withTempDir(async (dir) => {
    await writeTree(dir, {
      "train/a/good.jpg": JPEG,
      "train/a/cut.jpg": TRUNCATED_JPEG,
      "train/b/good.png": PNG,
      "test/a/text.jpg": "this is text, not a JPEG",
      "test/b/good.jpg": JPEG,
    });
    const ds = await openFolder(dir);
    const cut = join(dir, "train", "a", "cut.jpg");
    await assert.rejects(
      async () => await ds.splits.train.get(0),
      (e) => e instanceof InputError && e.message.startsWith(`${cut}: corrupt JPEG`),
    );
    await assert.rejects(
      verifyDataset(ds),
      (e) => e instanceof InputError && e.message.startsWith(cut),
    );
    const warnings: string[] = [];
    const { dataset, skipped } = await verifyDataset(ds, {
      skipBad: true,
      onWarning: (m) => warnings.push(m),
    });
    assert.equal(skipped, 2);
    assert.equal(warnings.length, 2);
    assert.ok(warnings[1].includes(join(dir, "test", "a", "text.jpg")), warnings[1]);
    assert.deepEqual(
      [dataset.splits.train.length, dataset.splits.test.length, dataset.splits.val.length],
      [2, 1, 0], // no val/ folder: val is empty
    );
    assert.deepEqual(Array.from(dataset.splits.train.labels), [0, 1]);
    assert.equal(dataset.splits.train.source(0), join(dir, "train", "a", "good.jpg"));
  });
});

Deno.test("ImageFolder: not a folder, no classes, an empty class are InputErrors", async () => {
  await withTempDir(async (dir) => {
    await assert.rejects(openFolder(join(dir, "nope")), InputError);
    await assert.rejects(
      openFolder(dir),
      (e) => e instanceof InputError && e.message === `${dir}: no class folders`,
    );
    await writeTree(dir, { "a/1.jpg": JPEG, "b/notes.txt": "x" });
    await assert.rejects(
      openFolder(dir),
      (e) => e instanceof InputError && e.message === `${join(dir, "b")}: no image files`,
    );
  });
});
