// Runs on the real Fashion-MNIST of Debian's dataset-fashion-mnist package (installed here and in
// CI's setup); ignored, saying so, where it is absent.
import assert from "node:assert/strict";
import { FASHION_MNIST_CLASSES, openFashionMnist } from "../../../al/data/fashion_mnist.ts";
import { InputError } from "../../../engine/errors.ts";
import { join } from "node:path";
import { mnistLike, withTempDir, writeTree } from "./trees.ts";
import { fashionMnistTest } from "../../debian_dataset.ts";

fashionMnistTest({
  name: "fashion-mnist: 10 classes, 60000 train, 0 val, 10000 test, 28×28",
  async fn() {
    const saved = Deno.env.get("AKD_DATA");
    Deno.env.delete("AKD_DATA");
    try {
      const ds = await openFashionMnist();
      assert.equal(ds.name, "fashion-mnist");
      assert.deepEqual(ds.classes, FASHION_MNIST_CLASSES);
      assert.equal(ds.classes.length, 10);
      const { train, val, test } = ds.splits;
      assert.deepEqual([train.length, val.length, test.length], [60000, 0, 10000]);
      const counts = new Array(10).fill(0);
      for (const y of train.labels) counts[y]++;
      assert.deepEqual(counts, new Array(10).fill(6000)); // Fashion-MNIST is balanced
      const img = await test.get(0);
      assert.deepEqual([img.width, img.height, img.channels], [28, 28, 3]);
      assert.equal(test.labels[0], 9); // the first test image is an ankle boot
    } finally {
      if (saved !== undefined) Deno.env.set("AKD_DATA", saved);
    }
  },
});

Deno.test("fashion-mnist: $AKD_DATA/fashion-mnist is searched first", async () => {
  await withTempDir(async (dir) => {
    await writeTree(join(dir, "fashion-mnist"), mnistLike(true));
    const saved = Deno.env.get("AKD_DATA");
    Deno.env.set("AKD_DATA", dir);
    try {
      const ds = await openFashionMnist();
      assert.equal(ds.splits.train.length, 5);
      assert.deepEqual(ds.classes, FASHION_MNIST_CLASSES);
    } finally {
      if (saved === undefined) Deno.env.delete("AKD_DATA");
      else Deno.env.set("AKD_DATA", saved);
    }
  });
});

Deno.test("fashion-mnist: when absent, the error says how to get it", async () => {
  await withTempDir(async (dir) => {
    await assert.rejects(
      openFashionMnist([dir]),
      (e) =>
        e instanceof InputError && e.message.startsWith(`fashion-mnist: not found in ${dir}`) &&
        /apt-get install dataset-fashion-mnist/.test(e.message) && /AKD_DATA/.test(e.message),
    );
  });
});
