import assert from "node:assert/strict";
import { join } from "node:path";
import { dataCommand } from "../../../cli/commands/data.ts";
import { fashionMnistTest } from "../../debian_dataset.ts";
import { InputError } from "../../../engine/errors.ts";
import { imageDecoder } from "../../../al/data/decode.ts";
import {
  JPEG,
  mnistLike,
  PNG,
  TRUNCATED_JPEG,
  withTempDir,
  writeTree,
} from "../../al/data/trees.ts";

/** Runs `data ARGS...` and returns what it printed on stdout. */
async function run(...args: string[]): Promise<string> {
  const printed: string[] = [];
  const log = console.log;
  console.log = (...parts: unknown[]) => printed.push(parts.join(" "));
  try {
    await dataCommand().exitOverride().parseAsync(args, { from: "user" });
  } finally {
    console.log = log;
  }
  return printed.join("\n");
}

Deno.test("data --json prints classes and split sizes", async () => {
  await withTempDir(async (dir) => {
    await writeTree(dir, mnistLike(true));
    const out = JSON.parse(await run("--dataset", `idx:${dir}`, "--json", "--quiet"));
    assert.deepEqual(out, {
      classes: ["0", "1", "2"],
      train: 5,
      val: 0,
      test: 2,
      decoder: await imageDecoder(),
    });
    assert.match(out.decoder, /^sharp \d+\.\d+\.\d+ \(libvips /);
    const text = await run("--dataset", `idx:${dir}`, "--quiet");
    assert.equal(text, `idx:${dir}: 3 classes; train 5, val 0, test 2`);
  });
});

fashionMnistTest({
  name: "data --dataset fashion-mnist (Debian's package)",
  async fn() {
    const out = JSON.parse(await run("--dataset", "fashion-mnist", "--json", "--quiet"));
    assert.equal(out.classes.length, 10);
    assert.equal(out.classes[0], "T-shirt/top");
    assert.deepEqual([out.train, out.val, out.test], [60000, 0, 10000]);
  },
});

Deno.test("data: a corrupt file is an InputError naming it; --skip-bad counts it out", async () => {
  await withTempDir(async (dir) => {
    await writeTree(dir, {
      "train/a/1.jpg": JPEG,
      "train/b/2.png": PNG,
      "train/b/3.jpg": TRUNCATED_JPEG,
      "val/a/4.jpg": JPEG,
    });
    const bad = join(dir, "train", "b", "3.jpg");
    await assert.rejects(
      run("--dataset", `folder:${dir}`, "--quiet"),
      (e) => e instanceof InputError && e.message.startsWith(`${bad}: corrupt JPEG`),
    );
    const out = JSON.parse(
      await run("--dataset", `folder:${dir}`, "--json", "--skip-bad", "--quiet"),
    );
    assert.deepEqual(out, {
      classes: ["a", "b"],
      train: 2,
      val: 1,
      test: 1,
      decoder: await imageDecoder(),
    });
  });
});

Deno.test("data: bad flags are InputErrors", async () => {
  await assert.rejects(
    run("--dataset", "nope", "--quiet"),
    (e) => e instanceof InputError && e.message.startsWith('--dataset "nope"'),
  );
  await assert.rejects(
    run("--dataset", "fashion-mnist", "--seed", "-1"),
    (e) => e instanceof InputError && e.message.startsWith("--seed must be an integer"),
  );
  await assert.rejects(
    run("--dataset", "fashion-mnist", "--cache-size", "0"),
    (e) => e instanceof InputError && e.message.startsWith("--cache-size must be an integer >= 1"),
  );
});
