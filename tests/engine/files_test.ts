import assert from "node:assert/strict";
import { join } from "node:path";
import { exists, statIfExists, writeFileAtomic } from "../../engine/files.ts";
import { withTempDir as withDir } from "../temp_dir.ts";

async function names(dir: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
}

Deno.test("writeFileAtomic: writes text and bytes, replacing the old file, no temp left", async () => {
  await withDir(async (dir) => {
    const file = join(dir, "a.json");
    await writeFileAtomic(file, "old\n");
    await writeFileAtomic(file, "new\n");
    assert.equal(await Deno.readTextFile(file), "new\n");
    await writeFileAtomic(join(dir, "b.bin"), Uint8Array.of(1, 2, 3));
    assert.deepEqual(await Deno.readFile(join(dir, "b.bin")), Uint8Array.of(1, 2, 3));
    assert.deepEqual(await names(dir), ["a.json", "b.bin"]);
  });
});

Deno.test("writeFileAtomic: a failed rename throws and removes its temporary file", async () => {
  await withDir(async (dir) => {
    // A non-empty folder at the target: the temp file is written, the rename fails.
    const target = join(dir, "report.json");
    await Deno.mkdir(target);
    await Deno.writeTextFile(join(target, "keep"), "x");
    await assert.rejects(writeFileAtomic(target, "data"), (e) => e instanceof Error);
    assert.deepEqual(await names(dir), ["report.json"]);
    assert.deepEqual(await names(target), ["keep"]);
  });
});

Deno.test("writeFileAtomic: a missing folder throws NotFound and creates nothing", async () => {
  await withDir(async (dir) => {
    await assert.rejects(writeFileAtomic(join(dir, "no", "x.txt"), "data"), Deno.errors.NotFound);
    assert.deepEqual(await names(dir), []);
  });
});

Deno.test("exists / statIfExists: only NotFound means missing; other errors are thrown", async () => {
  await withDir(async (dir) => {
    const file = join(dir, "f");
    await Deno.writeTextFile(file, "x");
    assert.equal(await exists(file), true);
    assert.equal((await statIfExists(dir))?.isDirectory, true);
    assert.equal(await exists(join(dir, "missing")), false);
    assert.equal(await statIfExists(join(dir, "missing")), undefined);
    // A path through a file: ENOTDIR, an error that is not "missing".
    await assert.rejects(exists(join(file, "child")), Deno.errors.NotADirectory);
  });
});
