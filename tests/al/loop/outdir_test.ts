/**
 * `--resume` compares the saved config.json resolved like any config, so a run started by a
 * version that lacked a key (one since added with a default) resumes, while a key that really
 * differs is still refused.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { resolveConfig } from "../../../al/config.ts";
import { CONFIG_FILE, prepareOut } from "../../../al/loop/outdir.ts";
import { InputError } from "../../../engine/errors.ts";
import { withDir } from "./fault_run.ts";

Deno.test("outdir: a saved config without a since-added key resumes; a changed key does not", async () => {
  await withDir(async (out) => {
    const config = resolveConfig({ out }, {}, "test");
    assert.equal(await prepareOut(config), "fresh");
    const file = join(out, CONFIG_FILE);
    const older = JSON.parse(await Deno.readTextFile(file));
    assert.equal(older.teacherInput, "auto");
    delete older.teacherInput; // as written before the key existed
    await Deno.writeTextFile(file, JSON.stringify(older));
    assert.equal(await prepareOut(config, { resume: true }), "resume");
    await assert.rejects(
      prepareOut({ ...config, teacherInput: "cached" }, { resume: true }),
      (e) =>
        e instanceof InputError &&
        /^--resume: "teacherInput" is "cached" but the run .* has "auto"$/.test(e.message),
    );
  });
});
