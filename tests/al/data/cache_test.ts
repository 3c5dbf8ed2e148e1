import assert from "node:assert/strict";
import { join } from "node:path";
import { CachedImageSet, shrink } from "../../../al/data/cache.ts";
import { decodeImage } from "../../../al/data/decode.ts";
import { openDataset } from "../../../al/data/open.ts";
import { InputError } from "../../../engine/errors.ts";
import { JPEG, mnistLike, PNG, TRUNCATED_JPEG, withTempDir, writeTree } from "./trees.ts";
import { IdxImageSet } from "../../../al/data/idx.ts";

const tree = {
  "train/a/x.jpg": JPEG,
  "train/b/y.png": PNG,
  "test/a/z.jpg": JPEG,
};

Deno.test("cache: first open decodes and writes, second open reads without decoding", async () => {
  await withTempDir(async (dir) => {
    await writeTree(join(dir, "data"), tree);
    const cacheDir = join(dir, "cache");
    const spec = `folder:${join(dir, "data")}`;
    const first = await openDataset(spec, { cacheSize: 8, cacheDir });
    assert.equal(first.cache?.hit, false);
    assert.ok(first.splits.train instanceof CachedImageSet);
    const x = await first.splits.train.get(0);
    assert.deepEqual([x.width, x.height], [10, 8]); // 16×12 → shorter side 8
    assert.deepEqual(x, shrink(await decodeImage(JPEG, "x.jpg"), 8));
    assert.deepEqual(Array.from(first.splits.train.labels), [0, 1]);
    assert.equal(first.splits.train.source(1), join(dir, "data", "train", "b", "y.png"));
    assert.equal(first.splits.val.length, 0); // train/ and test/ only: val is empty

    // Same size and mtime but garbage bytes: a cache hit must not notice (nothing is decoded).
    const file = join(dir, "data", "train", "a", "x.jpg");
    const { mtime } = await Deno.stat(file);
    await Deno.writeFile(file, new Uint8Array(JPEG.length).fill(7));
    await Deno.utime(file, mtime!, mtime!);
    const second = await openDataset(spec, { cacheSize: 8, cacheDir });
    assert.deepEqual(second.cache, { ...first.cache, hit: true });
    assert.deepEqual(await second.splits.train.get(0), x);
    assert.deepEqual(await second.splits.test.get(0), await first.splits.test.get(0));

    // A new mtime changes the key: the cache is rebuilt, and now the garbage is found.
    await Deno.utime(file, new Date(2001, 1, 1), new Date(2001, 1, 1));
    await assert.rejects(
      openDataset(spec, { cacheSize: 8, cacheDir }),
      (e) => e instanceof InputError && e.message === `${file}: not a JPEG or PNG image`,
    );

    const names = (await Array.fromAsync(Deno.readDir(cacheDir))).map((e) => e.name).sort();
    assert.equal(names.length, 2, names.join()); // one .u8 + .json; no temporary file left
    assert.ok(names[0].endsWith(".json") && names[1].endsWith(".u8"));
    assert.match(names[0], /^folder_.*-8-[0-9a-f]{16}\.json$/);
  });
});

Deno.test("cache: small images are not enlarged; skipBad drops bad files and remembers it", async () => {
  await withTempDir(async (dir) => {
    await writeTree(join(dir, "data"), { ...tree, "train/a/cut.jpg": TRUNCATED_JPEG });
    const cacheDir = join(dir, "cache");
    const spec = `folder:${join(dir, "data")}`;
    await assert.rejects(openDataset(spec, { cacheSize: 64, cacheDir }), InputError);
    assert.deepEqual(await Array.fromAsync(Deno.readDir(cacheDir)), []); // nothing half-written
    const warnings: string[] = [];
    const opts = {
      cacheSize: 64,
      cacheDir,
      skipBad: true,
      onWarning: (m: string) => warnings.push(m),
    };
    const first = await openDataset(spec, opts);
    assert.equal(first.skipped, 1);
    assert.equal(warnings.length, 1);
    assert.deepEqual(Array.from(first.splits.train.labels), [0, 1]);
    assert.equal(first.splits.train.source(0), join(dir, "data", "train", "a", "x.jpg"));
    const img = await first.splits.train.get(1);
    assert.deepEqual(img, await decodeImage(PNG, "y.png")); // 16×12 < 64: stored as decoded
    const second = await openDataset(spec, opts);
    assert.equal(second.cache?.hit, true);
    assert.equal(second.skipped, 1);
    assert.equal(warnings.length, 1); // nothing decoded, nothing warned again
    assert.deepEqual(await second.splits.train.get(1), img);
  });
});

Deno.test("cache: AKD_CACHE is the default folder; in-memory IDX splits pass through", async () => {
  await withTempDir(async (dir) => {
    await writeTree(join(dir, "data"), tree);
    const saved = Deno.env.get("AKD_CACHE");
    Deno.env.set("AKD_CACHE", join(dir, "env-cache"));
    try {
      const ds = await openDataset(`folder:${join(dir, "data")}`, { cacheSize: 8 });
      assert.ok(ds.cache!.file.startsWith(join(dir, "env-cache")));
      await writeTree(join(dir, "idx"), mnistLike(true));
      const idx = await openDataset(`idx:${join(dir, "idx")}`, { cacheSize: 8 });
      assert.equal(idx.cache, undefined);
      assert.ok(idx.splits.train instanceof IdxImageSet);
    } finally {
      if (saved === undefined) Deno.env.delete("AKD_CACHE");
      else Deno.env.set("AKD_CACHE", saved);
    }
  });
});
