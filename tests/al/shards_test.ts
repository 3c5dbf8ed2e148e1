/**
 * al/shards.ts on a host-only pass (row i, column j holds 1000·i + j): shard boundaries, a
 * sharded pass merged equals the whole pass bitwise, and every bad shard set (missing,
 * duplicated, of another key, of two counts, of the wrong rows) is an InputError naming the file.
 * The CLI path with real processes is tests/cli/commands/teacher_shard_test.ts.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  type ImagePass,
  mergeShards,
  parseShard,
  removeShards,
  shardFile,
  shardFiles,
  shardRows,
  writeShard,
} from "../../al/shards.ts";
import { silentProgress } from "../../al/progress.ts";
import { InputError } from "../../engine/errors.ts";
import { loadSafetensors } from "../../engine/safetensors.ts";
import { withTempDir } from "../temp_dir.ts";

function pass(key: string, rows: number, batch: number): ImagePass {
  const fill = (start: number, end: number, cols: number) =>
    Float32Array.from(
      { length: (end - start) * cols },
      (_, k) => 1000 * (start + Math.floor(k / cols)) + (k % cols),
    );
  return {
    key,
    name: `pass ${key}`,
    rows,
    cols: { a: 3, b: 2 },
    batch,
    compute: (start, end) => Promise.resolve({ a: fill(start, end, 3), b: fill(start, end, 2) }),
  };
}

async function shardAll(p: ImagePass, count: number, dir: string): Promise<string[]> {
  const files = [];
  for (let index = 1; index <= count; index++) {
    files.push(await writeShard(p, { index, count }, silentProgress, dir));
  }
  return files;
}

/** The InputError message of `merge`, asserting there is one. */
async function mergeError(p: ImagePass, dir: string): Promise<string> {
  const e = await mergeShards(p, dir).then(() => undefined, (e) => e);
  assert.ok(e instanceof InputError, `expected an InputError, got ${e}`);
  assert.ok(!e.message.includes("\n"), "one line");
  return e.message;
}

Deno.test("shards: K/N parsing names the flag", () => {
  assert.deepEqual(parseShard("--shard", "2/5"), { index: 2, count: 5 });
  for (const bad of ["0/3", "4/3", "1/0", "a/b", "1", "1/2/3", "-1/2", " 1/2"]) {
    assert.throws(
      () => parseShard("--shard", bad),
      (e: Error) => e instanceof InputError && e.message.startsWith("--shard: expected K/N"),
    );
  }
});

Deno.test("shards: boundaries on batch multiples tile the rows in order", () => {
  for (const [rows, batch, count] of [[1000, 64, 7], [10, 4, 5], [0, 8, 3], [129, 128, 2]]) {
    let at = 0;
    for (let index = 1; index <= count; index++) {
      const [start, end] = shardRows(rows, batch, { index, count });
      assert.equal(start, at, `shard ${index}/${count} of ${rows} starts where the last ended`);
      assert.ok(end >= start && (end === rows || end % batch === 0), `[${start}, ${end})`);
      assert.equal(start % batch, 0);
      at = end;
    }
    assert.equal(at, rows);
  }
  // Balanced: 10 blocks of 64 over 4 shards give 2 or 3 blocks each.
  const sizes = [1, 2, 3, 4].map((index) => {
    const [s, e] = shardRows(640, 64, { index, count: 4 });
    return (e - s) / 64;
  });
  assert.deepEqual(sizes, [2, 3, 2, 3]);
});

Deno.test("shards: merged shards are the whole pass, bitwise; then they can go", async () => {
  await withTempDir(async (dir) => {
    const p = pass("k1", 203, 16);
    const whole = await p.compute(0, p.rows, silentProgress);
    assert.equal(await mergeShards(p, dir), undefined, "no shards: nothing to merge");
    const files = await shardAll(p, 5, dir);
    assert.deepEqual(files, await shardFiles("k1", dir));
    assert.equal(files[2], shardFile(dir, "k1", { index: 3, count: 5 }));
    const merged = (await mergeShards(p, dir))!;
    for (const name of ["a", "b"]) {
      assert.deepEqual(new Uint8Array(merged[name].buffer), new Uint8Array(whole[name].buffer));
    }
    // More shards than batches: the empty ones are written and merged too.
    const few = pass("k3", 10, 8);
    await shardAll(few, 3, dir);
    const [first] = await shardFiles("k3", dir);
    assert.deepEqual((await loadSafetensors(first)).tensors.get("a")!.shape, [0, 3]);
    assert.deepEqual(await mergeShards(few, dir), await few.compute(0, 10, silentProgress));
    // Shards of another key in the same folder are not this pass's files.
    await shardAll(pass("k2", 203, 16), 2, dir);
    assert.ok(await mergeShards(p, dir));
    await removeShards("k1", dir);
    assert.deepEqual(await shardFiles("k1", dir), []);
    assert.equal((await shardFiles("k2", dir)).length, 2);
  });
});

Deno.test("shards: a missing, duplicated or foreign shard is a one-line error naming the file", async () => {
  await withTempDir(async (root) => {
    const p = pass("k1", 100, 8);
    const fresh = async (name: string) => {
      const dir = join(root, name);
      return { dir, files: await shardAll(p, 4, dir) };
    };

    const missing = await fresh("missing");
    await Deno.remove(missing.files[2]);
    assert.equal(
      await mergeError(p, missing.dir),
      `${missing.files[2]}: missing: shard 3/4 of pass k1`,
    );

    const duplicated = await fresh("duplicated");
    const copy = join(duplicated.dir, "k1.2-of-4.again.safetensors");
    await Deno.copyFile(duplicated.files[1], copy);
    assert.equal(
      await mergeError(p, duplicated.dir),
      `${duplicated.files[1]}: duplicates shard 2/4 of ${copy}`,
    );

    const foreign = await fresh("foreign");
    const other = pass("k2", 100, 8);
    const otherFile = await writeShard(other, { index: 2, count: 4 }, silentProgress, root);
    await Deno.copyFile(otherFile, foreign.files[1]);
    assert.equal(
      await mergeError(p, foreign.dir),
      `${foreign.files[1]}: a shard of key k2, not of pass k1 (k1)`,
    );

    const counts = await fresh("counts");
    await writeShard(p, { index: 1, count: 3 }, silentProgress, counts.dir);
    assert.match(
      await mergeError(p, counts.dir),
      /k1\.1-of-4\.safetensors: shard 1 of 4, but .*k1\.1-of-3\.safetensors is of 3/,
    );

    // A shard of the same key over other rows (the pass changed its row count).
    const rows = await fresh("rows");
    assert.match(
      await mergeError(pass("k1", 60, 8), rows.dir),
      /k1\.1-of-4\.safetensors: shard 1\/4 holds rows 0-24 of 100; pass k1 needs rows 0-16 of 60$/,
    );

    // A truncated file is named by the safetensors reader.
    const cut = await fresh("cut");
    const bytes = await Deno.readFile(cut.files[0]);
    await Deno.writeFile(cut.files[0], bytes.subarray(0, bytes.length - 4));
    assert.ok((await mergeError(p, cut.dir)).startsWith(cut.files[0]));
  });
});
