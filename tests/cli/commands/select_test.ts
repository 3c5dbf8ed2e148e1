import assert from "node:assert/strict";
import { join } from "node:path";
import { gpuTest } from "../../gpu.ts";
import { fixture } from "../../fixtures.ts";
import { selectCommand } from "../../../cli/commands/select.ts";
import { InputError } from "../../../engine/errors.ts";
import { type HostTensor, loadSafetensors, saveSafetensors } from "../../../engine/safetensors.ts";

/** Runs `select ARGS...` and returns what it printed on stdout. */
async function run(...args: string[]): Promise<string> {
  const printed: string[] = [];
  const log = console.log;
  console.log = (...parts: unknown[]) => printed.push(parts.join(" "));
  try {
    await selectCommand().exitOverride().parseAsync([...args, "--quiet"], { from: "user" });
  } finally {
    console.log = log;
  }
  return printed.join("\n");
}

gpuTest("select --json reproduces the fixture's expected picks for each strategy", async () => {
  const pool = fixture("select", "select_0.safetensors");
  const { tensors } = await loadSafetensors(pool);
  for (const s of ["pcoreset", "coreset", "entropy", "badge"]) {
    const out = JSON.parse(
      await run("--strategy", s, "--pool", pool, "--budget", "16", "--json"),
    );
    assert.deepEqual(Object.keys(out), ["indices", "seconds"]);
    assert.deepEqual(out.indices, Array.from(tensors.get(`expected.${s}`)!.data), s);
    assert.ok(typeof out.seconds === "number" && out.seconds >= 0 && out.seconds < 60);
  }
  const text = await run("--strategy", "pcoreset", "--pool", pool, "--budget", "3");
  assert.equal(text, Array.from(tensors.get("expected.pcoreset")!.data.slice(0, 3)).join(" "));
});

/** A pool file of `tensors` in a temp folder. */
async function withPool(tensors: Record<string, HostTensor>, fn: (path: string) => Promise<void>) {
  const folder = await Deno.makeTempDir();
  try {
    const path = join(folder, "pool.safetensors");
    await saveSafetensors(path, tensors);
    await fn(path);
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
}

const f32 = (shape: number[], values: number[]): HostTensor => ({
  dtype: "f32",
  shape,
  data: Float32Array.from({ length: shape[0] * shape[1] }, (_, i) => values[i % values.length]),
});

gpuTest("select refuses bad input with exit-2 errors naming the file", async () => {
  const probs = f32([6, 2], [0.25, 0.75, 0.5, 0.5, 0.9, 0.1]);
  await withPool({ probs, labeled_probs: f32([1, 2], [0.5, 0.5]) }, async (path) => {
    const refuses = (args: string[], message: string | RegExp) =>
      assert.rejects(run("--pool", path, ...args), (e) =>
        e instanceof InputError &&
        (typeof message === "string" ? e.message === message : message.test(e.message)));
    await refuses(
      ["--strategy", "pcoreset", "--budget", "7"],
      `${path}: budget 7 is larger than the pool (6 rows)`,
    );
    await refuses(["--strategy", "farthest", "--budget", "2"], /^unknown strategy "farthest"/);
    await refuses(
      ["--strategy", "coreset", "--budget", "2"],
      `${path}: no tensor "features" (coreset needs it)`,
    );
    await refuses(
      ["--strategy", "random", "--budget", "two"],
      /^--budget must be an integer >= 0, got "two"$/,
    );
    // Same seed, same picks.
    const random = (seed: string) =>
      run("--pool", path, "--strategy", "random", "--budget", "4", "--seed", seed);
    assert.equal(await random("9"), await random("9"));
    assert.notEqual(await random("9"), await random("10"));
  });
  await withPool({ probs: f32([6, 2], [0.5, NaN]) }, async (path) => {
    await assert.rejects(
      run("--pool", path, "--strategy", "pcoreset", "--budget", "2"),
      (e) => e instanceof InputError && e.message === `${path}: probs: row 0 contains NaN or Inf`,
    );
  });
  await withPool({ probs: f32([6, 2], [0.5, 0.6]) }, async (path) => {
    await assert.rejects(
      run("--pool", path, "--strategy", "pcoreset", "--budget", "2"),
      (e) =>
        e instanceof InputError && /: probs: row 0 is not a probability vector/.test(e.message),
    );
  });
  await withPool({ probs, labeled_probs: f32([2, 3], [0.2, 0.3, 0.5]) }, async (path) => {
    await assert.rejects(
      run("--pool", path, "--strategy", "pcoreset", "--budget", "2"),
      (e) =>
        e instanceof InputError &&
        e.message === `${path}: labeled_probs: 3 columns, but pool probs has 2`,
    );
  });
});
