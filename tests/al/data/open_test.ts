import assert from "node:assert/strict";
import { join } from "node:path";
import { openDataset } from "../../../al/data/open.ts";
import { InputError } from "../../../engine/errors.ts";
import { JPEG, mnistLike, withTempDir, writeTree } from "./trees.ts";

Deno.test("openDataset: each spec kind reaches its source", async () => {
  await withTempDir(async (dir) => {
    await writeTree(join(dir, "idx"), mnistLike(true));
    await writeTree(join(dir, "folder"), { "a/1.jpg": JPEG, "b/2.jpg": JPEG, "b/3.jpg": JPEG });
    await writeTree(join(dir, "coop:root"), {
      "dtd/split_zhou_DescribableTextures.json": JSON.stringify({
        train: [["banded/1.jpg", 0, "banded"]],
        val: [],
        test: [],
      }),
    });
    const idx = await openDataset(`idx:${join(dir, "idx")}`);
    assert.equal(idx.splits.train.length, 5);
    const folder = await openDataset(`folder:${join(dir, "folder")}`, { seed: 3 });
    assert.deepEqual(folder.classes, ["a", "b"]);
    const coop = await openDataset(`coop:DTD:${join(dir, "coop:root")}`); // ROOT may hold ':'
    assert.deepEqual(coop.classes, ["banded"]);
    assert.equal(coop.template, "{} texture.");
  });
});

Deno.test("openDataset: malformed specs are InputErrors naming --dataset", async () => {
  for (
    const spec of [
      "",
      "idx:",
      "folder:",
      "coop:",
      "coop:DTD",
      "coop:DTD:",
      "coop::/x",
      "mnist",
      "http://x",
    ]
  ) {
    await assert.rejects(
      openDataset(spec),
      (e) =>
        e instanceof InputError && e.message.startsWith(`--dataset "${spec}": expected idx:DIR`),
      spec,
    );
  }
});

Deno.test("openDataset: verify decodes everything and reports bad files", async () => {
  await withTempDir(async (dir) => {
    await writeTree(dir, { "a/1.jpg": JPEG, "a/2.jpg": "garbage", "b/3.jpg": JPEG });
    const spec = `folder:${dir}`;
    await assert.doesNotReject(openDataset(spec)); // lazy: nothing decoded yet
    await assert.rejects(
      openDataset(spec, { verify: true }),
      (e) =>
        e instanceof InputError &&
        e.message === `${join(dir, "a", "2.jpg")}: not a JPEG or PNG image`,
    );
    const ds = await openDataset(spec, { verify: true, skipBad: true });
    assert.equal(ds.skipped, 1);
  });
});
