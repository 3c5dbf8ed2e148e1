import assert from "node:assert/strict";
import { join } from "node:path";
import { IdxImageSet, openIdx, parseIdx } from "../../../al/data/idx.ts";
import { InputError } from "../../../engine/errors.ts";
import { idx, mnistLike, withTempDir, writeTree } from "./trees.ts";

for (const gz of [true, false]) {
  Deno.test(`IDX ${gz ? "gzipped" : "raw"}: counts, labels, grey pixels as RGB, val empty`, async () => {
    await withTempDir(async (dir) => {
      await writeTree(dir, mnistLike(gz));
      const ds = await openIdx(dir);
      assert.deepEqual(ds.classes, ["0", "1", "2"]);
      const { train, val, test } = ds.splits;
      assert.deepEqual([train.length, val.length, test.length], [5, 0, 2]);
      assert.deepEqual(Array.from(train.labels), [0, 2, 1, 2, 0]);
      assert.deepEqual(Array.from(test.labels), [1, 0]);
      const img = await train.get(2); // record 2 starts at byte 12: values (12..17) * 7 + 1
      assert.deepEqual([img.width, img.height, img.channels], [2, 3, 3]);
      const grey = Array.from({ length: 6 }, (_, k) => ((12 + k) * 7 + 1) & 255);
      assert.deepEqual(Array.from(img.data), grey.flatMap((v) => [v, v, v]));
      assert.ok(train instanceof IdxImageSet && train.grey(2).buffer === train.pixels.buffer);
      assert.throws(() => train.get(5), RangeError);
    });
  });
}

Deno.test("IDX: wrong magic, truncated, trailing bytes, count mismatch are InputErrors", async () => {
  const bad = (f: () => unknown, pattern: RegExp) =>
    assert.throws(f, (e) => e instanceof InputError && pattern.test(e.message));
  const good = idx([2, 2, 2]);
  const wrongType = good.slice();
  wrongType[2] = 0x0d; // float data
  bad(() => parseIdx(wrongType, "x.idx", 3), /^x\.idx: .*bad magic/);
  bad(() => parseIdx(good, "x.idx", 1), /^x\.idx: IDX file has 3 dimensions, expected 1/);
  bad(() => parseIdx(good.subarray(0, good.length - 1), "x.idx", 3), /^x\.idx: truncated/);
  bad(() => parseIdx(good.subarray(0, 10), "x.idx", 3), /^x\.idx: truncated IDX header/);
  const long = new Uint8Array(good.length + 3);
  long.set(good);
  bad(() => parseIdx(long, "x.idx", 3), /^x\.idx: 3 bytes after the IDX data/);

  await withTempDir(async (dir) => {
    const files = mnistLike(true);
    const gz = files["train-images-idx3-ubyte.gz"];
    await writeTree(dir, { ...files, "train-images-idx3-ubyte.gz": gz.subarray(0, gz.length - 8) });
    const file = join(dir, "train-images-idx3-ubyte.gz");
    await assert.rejects(
      openIdx(dir),
      (e) => e instanceof InputError && e.message.startsWith(file),
    );
  });
  await withTempDir(async (dir) => {
    await writeTree(dir, { ...mnistLike(false), "t10k-labels-idx1-ubyte": idx([3]) });
    await assert.rejects(
      openIdx(dir),
      (e) =>
        e instanceof InputError && /t10k-labels-idx1-ubyte: 3 labels for 2 images/.test(e.message),
    );
  });
  await withTempDir(async (dir) => {
    await assert.rejects(
      openIdx(dir),
      (e) =>
        e instanceof InputError &&
        /train-images-idx3-ubyte\[\.gz\]: file not found/.test(e.message),
    );
  });
});
