import assert from "node:assert/strict";
import { join } from "node:path";
import { cacheDir, dataDir, debugEnabled, pythonPath } from "../../al/env.ts";
import { InputError } from "../../engine/errors.ts";
import { akd } from "../cli/run_cli.ts";
import { JPEG, PNG, withTempDir, writeTree } from "./data/trees.ts";

/** Runs `fn` with `name` set to `value` (undefined: unset), restoring it after. */
function withEnv(name: string, value: string | undefined, fn: () => void): void {
  const saved = Deno.env.get(name);
  if (value === undefined) Deno.env.delete(name);
  else Deno.env.set(name, value);
  try {
    fn();
  } finally {
    if (saved === undefined) Deno.env.delete(name);
    else Deno.env.set(name, saved);
  }
}

const named = (name: string, pattern: RegExp) => (e: unknown) =>
  e instanceof InputError && e.message.startsWith(name) && pattern.test(e.message);

Deno.test("AKD_CACHE: default, a folder (absent is fine), refused when empty or a file", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const file = join(dir, "f");
    Deno.writeTextFileSync(file, "");
    withEnv("AKD_CACHE", undefined, () => assert.equal(cacheDir(), join(".cache", "activekd")));
    withEnv("AKD_CACHE", dir, () => assert.equal(cacheDir(), dir));
    withEnv("AKD_CACHE", join(dir, "new"), () => assert.equal(cacheDir(), join(dir, "new")));
    withEnv("AKD_CACHE", "", () => assert.throws(cacheDir, named("AKD_CACHE", /empty/)));
    withEnv("AKD_CACHE", file, () => assert.throws(cacheDir, named("AKD_CACHE", /not a folder/)));
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("AKD_DATA: an existing folder, else an error naming it", () => {
  const dir = Deno.makeTempDirSync();
  try {
    withEnv("AKD_DATA", undefined, () => assert.equal(dataDir(), undefined));
    withEnv("AKD_DATA", dir, () => assert.equal(dataDir(), dir));
    withEnv("AKD_DATA", " ", () => assert.throws(dataDir, named("AKD_DATA", /empty/)));
    withEnv(
      "AKD_DATA",
      join(dir, "missing"),
      () => assert.throws(dataDir, named("AKD_DATA", /no such folder/)),
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("AKD_DEBUG: 0, 1 or empty; anything else is an error naming it", () => {
  for (const [value, on] of [[undefined, false], ["", false], ["0", false], ["1", true]] as const) {
    withEnv("AKD_DEBUG", value, () => assert.equal(debugEnabled(), on));
  }
  withEnv("AKD_DEBUG", "yes", () => assert.throws(debugEnabled, named("AKD_DEBUG", /"yes"/)));
});

Deno.test("AKD_PYTHON: default, explicit, refused when empty", () => {
  withEnv("AKD_PYTHON", undefined, () => assert.equal(pythonPath().explicit, false));
  withEnv("AKD_PYTHON", "/opt/py", () => {
    assert.deepEqual(pythonPath(), { path: "/opt/py", explicit: true });
  });
  withEnv("AKD_PYTHON", "", () => assert.throws(pythonPath, named("AKD_PYTHON", /empty/)));
});

Deno.test("akd: a bad environment variable is exit 2 naming it, with no output", async () => {
  await withTempDir(async (dir) => {
    await writeTree(dir, { "train/a/1.jpg": JPEG, "train/b/2.png": PNG, "val/a/3.jpg": JPEG });
    const cases: [Record<string, string>, string[], RegExp][] = [
      [{ AKD_DEBUG: "yes" }, ["tokenize", "--help"], /^akd: AKD_DEBUG must be 0 or 1/],
      [
        { AKD_DATA: "/nonexistent/akd" },
        ["data", "--dataset", "fashion-mnist", "--quiet"],
        /^akd: AKD_DATA=\/nonexistent\/akd: no such folder/,
      ],
      [
        { AKD_CACHE: "" },
        ["data", "--dataset", `folder:${dir}`, "--cache-size", "8", "--quiet"],
        /^akd: AKD_CACHE is set but empty/,
      ],
      [
        { AKD_PYTHON: "/nonexistent/python" },
        ["bench", "data", "--quick", "--quiet", "--backend", "native"],
        /^akd: AKD_PYTHON=\/nonexistent\/python: no such program/,
      ],
    ];
    for (const [env, args, pattern] of cases) {
      const r = await akd(args, env);
      assert.equal(r.code, 2, `${JSON.stringify(env)}: ${r.stderr}`);
      assert.match(r.stderr, pattern);
      assert.equal(r.stdout, "", "no partial output");
    }
  });
});
