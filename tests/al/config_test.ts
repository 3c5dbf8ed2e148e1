import assert from "node:assert/strict";
import { join } from "node:path";
import {
  flagName,
  loadConfig,
  parseFlagValue,
  resolveConfig,
  runConfigSchema,
} from "../../al/config.ts";
import { InputError } from "../../engine/errors.ts";

function rejects(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (e) => e instanceof InputError && message.test(e.message));
}

Deno.test("config: defaults are docs/method.md's", () => {
  const c = resolveConfig({});
  assert.equal(c.rounds, 15);
  assert.deepEqual(c.seeds, [1, 2, 3, 4, 5]);
  assert.equal(c.shots, 1);
  assert.equal(c.repeat, 200);
  assert.equal(c.batchSize, 64);
  assert.equal(c.lr, 1e-3);
  assert.equal(c.weightDecay, 0.01);
  assert.equal(c.warmup, 0.1);
  assert.equal(c.temperature, 2);
  assert.equal(c.alpha, 0.5);
  assert.equal(c.beta, 1);
  assert.equal(c.budget, undefined);
  assert.equal(c.teacher, "clip-zeroshot");
});

Deno.test("config: a typo is an InputError naming the key, with a suggestion", () => {
  rejects(
    () => resolveConfig({ rouns: 3 }, {}, "c.json"),
    /^c\.json: unknown key "rouns" \(did you mean "rounds"\?\)$/,
  );
  rejects(
    () => resolveConfig({ zzzzzzzzzz: 1 }, {}, "c.json"),
    /^c\.json: unknown key "zzzzzzzzzz"$/,
  );
});

Deno.test("config: bad values name the key and the value", () => {
  rejects(() => resolveConfig({ rounds: -1 }, {}, "c.json"), /^c\.json: "rounds": .*>= 0, got -1$/);
  rejects(() => resolveConfig({ rounds: 1.5 }, {}, "c.json"), /"rounds": expected an integer/);
  rejects(() => resolveConfig({ seeds: [1, "x"] }, {}, "c.json"), /"seeds\.1": .*got "x"/);
  rejects(() => resolveConfig({ seeds: [1, 1] }, {}, "c.json"), /"seeds": has duplicates/);
  rejects(
    () => resolveConfig({ strategies: ["pcoreset", "kmeans"] }),
    /"strategies\.1": expected one of/,
  );
  rejects(() => resolveConfig({ teacher: "bert" }), /"teacher": expected clip-zeroshot/);
  rejects(() => resolveConfig({ warmup: 2 }), /"warmup": expected a value <= 1/);
  rejects(() => resolveConfig([1, 2], {}, "c.json"), /^c\.json: expected a JSON object/);
});

Deno.test("config: flags override the file and are named in errors", () => {
  const c = resolveConfig(
    { rounds: 3, seeds: [7] },
    {
      rounds: parseFlagValue("rounds", "5"),
      strategies: parseFlagValue("strategies", "random,entropy"),
    },
  );
  assert.equal(c.rounds, 5);
  assert.deepEqual(c.seeds, [7]);
  assert.deepEqual(c.strategies, ["random", "entropy"]);
  rejects(
    () => resolveConfig({}, { rounds: parseFlagValue("rounds", "abc") }),
    /^--rounds: expected .*a non-number$/,
  );
  rejects(
    () => resolveConfig({}, { weightDecay: parseFlagValue("weightDecay", "-1") }),
    /^--weight-decay: /,
  );
  assert.equal(flagName("teacherHoldout"), "--teacher-holdout");
  assert.deepEqual(parseFlagValue("seeds", "1,2,3"), [1, 2, 3]);
  assert.equal(parseFlagValue("clapLag", true), true);
});

Deno.test("config: loadConfig reads JSON and names a broken file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const good = join(dir, "good.json");
    await Deno.writeTextFile(good, JSON.stringify({ rounds: 2, budget: 4 }));
    const c = await loadConfig(good, { shots: 3 });
    assert.deepEqual([c.rounds, c.budget, c.shots], [2, 4, 3]);
    const bad = join(dir, "bad.json");
    await Deno.writeTextFile(bad, "{ rounds: 2 ");
    await assert.rejects(
      loadConfig(bad),
      (e) => e instanceof InputError && e.message.startsWith(`${bad}: not valid JSON`),
    );
    await assert.rejects(
      loadConfig(join(dir, "none.json")),
      (e) => e instanceof InputError && /cannot read/.test(e.message),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("config: the resolved config round-trips through the schema unchanged", () => {
  const c = resolveConfig({ rounds: 4, budget: 3, clip: "w" });
  assert.deepEqual(runConfigSchema.parse(JSON.parse(JSON.stringify(c))), c);
});
