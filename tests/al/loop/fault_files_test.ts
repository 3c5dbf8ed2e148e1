/**
 * Errors about the output folder are never swallowed (issue 14): `--force` ignores only what is
 * already gone, and a corrupt checkpoint is an InputError naming it even when it is the round
 * after a missing one (it was once read as absent, and the run silently started over).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { resolveConfig } from "../../../al/config.ts";
import { completedRounds, roundDir, STATE_FILE } from "../../../al/loop/checkpoint.ts";
import { CONFIG_FILE, prepareOut } from "../../../al/loop/outdir.ts";
import { InputError } from "../../../engine/errors.ts";
import { withDir } from "./fault_run.ts";

Deno.test("fault: --force fails naming a path it cannot remove, and skips what is gone", async () => {
  await withDir(async (out) => {
    const config = resolveConfig({ out }, {}, "test");
    // Nothing to remove: --force starts a fresh run.
    assert.equal(await prepareOut(config, { force: true }), "fresh");
    // report.json as a non-empty folder: its removal fails with something other than NotFound
    // (as a permission error would; the tests run as root, which no permission stops).
    await Deno.mkdir(join(out, "report.json", "x"), { recursive: true });
    await assert.rejects(
      prepareOut(config, { force: true }),
      (e) =>
        !(e instanceof InputError) &&
        (e as Error).message.startsWith(`--force: cannot remove ${join(out, "report.json")} (`),
    );
    // Nothing after the failed removal was touched.
    await Deno.stat(join(out, CONFIG_FILE));
  });
});

Deno.test("fault: a corrupt state after a missing round is an InputError naming it", async () => {
  await withDir(async (out) => {
    const file = join(roundDir(out, 1, "random", 1), STATE_FILE);
    await Deno.mkdir(join(file, ".."), { recursive: true });
    await Deno.writeTextFile(file, '{"version": 1, "seed"');
    await assert.rejects(
      completedRounds(out, 1, "random", 3),
      (e) => e instanceof InputError && e.message.startsWith(`${file}: corrupt checkpoint (`),
    );
  });
});
