/**
 * The offline GPU run's pieces that need no GPU: the record merge, the argument checks of
 * bench/offline-gpu.sh, and the generator of the hardware-size PCoreSet pool.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { jitteredProbs } from "../../bench/pcoreset.ts";
import { Rng } from "../../engine/rng.ts";
import { withTempDir } from "../temp_dir.ts";

const root = new URL("../../", import.meta.url).pathname;

async function run(cmd: string, args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "piped" })
    .output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

Deno.test("merge_records: joins the arrays in the order given, naming each output it leaves out", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(join(dir, "bench-b.json"), '[{"name": "b"}]');
    await Deno.writeTextFile(join(dir, "bench-a.json"), '[{"name": "a1"}, {"name": "a2"}]');
    await Deno.writeTextFile(join(dir, "bench-cut.json"), '[{"name": "c"');
    await Deno.writeTextFile(join(dir, "bench-obj.json"), '{"name": "o"}');
    const r = await run(Deno.execPath(), [
      "run",
      "--allow-read",
      "--allow-write",
      join(root, "bench/merge_records.ts"),
      dir,
      "b",
      "cut",
      "a",
      "obj",
      "missing",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const merged = JSON.parse(await Deno.readTextFile(join(dir, "bench.json")));
    assert.deepEqual(merged.map((m: { name: string }) => m.name), ["b", "a1", "a2"]);
    for (const bad of ["bench-cut.json", "bench-obj.json", "bench-missing.json"]) {
      assert.match(r.stderr, new RegExp(`${bad}: `));
    }
    assert.match(r.stderr, /bench\.json: 3 records/);
  });
});

Deno.test("offline-gpu.sh: bad arguments and a missing carry exit 2 with one line naming them", async () => {
  const script = join(root, "bench/offline-gpu.sh");
  const cases: [string[], Record<string, string>, RegExp][] = [
    [[], {}, /usage: bench\/offline-gpu\.sh \[--quick\] OUTDIR/],
    [["--fast", "out"], {}, /unknown option '--fast'/],
    [["a", "b"], {}, /usage:/],
    [["out"], { AKD_GPU_BUDGET_S: "5" }, /AKD_GPU_BUDGET_S must be an integer >= 60, got '5'/],
    [["out"], { AKD_GPU_BUDGET_S: "9m" }, /AKD_GPU_BUDGET_S must be an integer >= 60/],
  ];
  for (const [args, env, message] of cases) {
    const r = await run("bash", [script, ...args], env);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  }
  // A tree without .carry/, then with one packed for another deno.lock: each named, nothing
  // written.
  await withTempDir(async (dir) => {
    await Deno.mkdir(join(dir, "bench"));
    await Deno.copyFile(script, join(dir, "bench/offline-gpu.sh"));
    await Deno.writeTextFile(join(dir, "deno.lock"), "{}");
    const out = join(dir, "out");
    let r = await run("bash", [join(dir, "bench/offline-gpu.sh"), out]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /\.carry\/MANIFEST is missing: run tools\/carry\.sh/);
    const carry = join(dir, ".carry");
    for (const f of ["deno.gz", "node_modules.tar.gz", "npm_registry.tar.gz"]) {
      await Deno.mkdir(carry, { recursive: true });
      await Deno.writeTextFile(join(carry, f), "x");
    }
    for (const f of ["vulkan/libvulkan.so.1", "libstdcxx/libstdc++.so.6"]) {
      await Deno.mkdir(join(carry, f, ".."), { recursive: true });
      await Deno.writeTextFile(join(carry, f), "x");
    }
    await Deno.writeTextFile(join(carry, "MANIFEST"), `deno.lock sha256 ${"0".repeat(64)}\n`);
    r = await run("bash", [join(dir, "bench/offline-gpu.sh"), out]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /was packed for another deno\.lock: run tools\/carry\.sh again/);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    await assert.rejects(Deno.stat(out), Deno.errors.NotFound);
  });
});

Deno.test("jitteredProbs: probability rows, distinct, the same for the same seed", () => {
  const rows = 5000, classes = 37;
  const a = jitteredProbs(rows, classes, Rng.fromSeed(7).stream("t"));
  const b = jitteredProbs(rows, classes, Rng.fromSeed(7).stream("t"));
  const c = jitteredProbs(rows, classes, Rng.fromSeed(8).stream("t"));
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  const seen = new Set<string>();
  for (let r = 0; r < rows; r++) {
    const row = a.subarray(r * classes, (r + 1) * classes);
    let sum = 0;
    for (const v of row) {
      assert.ok(v > 0 && v < 1, `row ${r}: ${v}`);
      sum += v;
    }
    // float32 rounding of 37 entries that sum to 1 in float64
    assert.ok(Math.abs(sum - 1) < 1e-6, `row ${r} sums to ${sum}`);
    seen.add(row.join(","));
  }
  assert.equal(seen.size, rows, "every row distinct (the jitter separates rows of one bank row)");
});
