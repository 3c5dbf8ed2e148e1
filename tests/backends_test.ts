import assert from "node:assert/strict";
import type { Engine } from "../engine/context.ts";
import { backendsRequired, parseTestBackends, planTest } from "./backends.ts";

Deno.test("AKD_TEST_BACKENDS: unset means both; a list of dawn and native, in its order", () => {
  assert.deepEqual(parseTestBackends(undefined), ["dawn", "native"]);
  assert.deepEqual(parseTestBackends("native"), ["native"]);
  assert.deepEqual(parseTestBackends("native,dawn"), ["native", "dawn"]);
});

Deno.test("AKD_TEST_BACKENDS: a bad value is an error naming the variable and the choices", () => {
  const refuses = (value: string, why: string) =>
    assert.throws(
      () => parseTestBackends(value),
      (e: Error) =>
        e.message ===
          `AKD_TEST_BACKENDS=${JSON.stringify(value)}: ${why}; ` +
            "expected a comma-separated list of dawn, native",
    );
  refuses("foo", 'unknown backend "foo"');
  refuses("dawn,cuda", 'unknown backend "cuda"');
  refuses("Dawn", 'unknown backend "Dawn"');
  refuses(" native", 'unknown backend " native"');
  refuses("", "an empty entry");
  refuses("dawn,", "an empty entry");
  refuses("dawn,,native", "an empty entry");
  refuses("native,dawn,native", '"native" is listed twice');
});

Deno.test("backends are required in CI (CI=true) or with AKD_REQUIRE_BACKENDS=1", () => {
  assert.equal(backendsRequired({}), false);
  assert.equal(backendsRequired({ CI: "true" }), true);
  assert.equal(backendsRequired({ CI: "1" }), true);
  assert.equal(backendsRequired({ CI: "false" }), false);
  assert.equal(backendsRequired({ CI: "" }), false);
  assert.equal(backendsRequired({ AKD_REQUIRE_BACKENDS: "1" }), true);
  assert.equal(backendsRequired({ AKD_REQUIRE_BACKENDS: "0" }), false);
  assert.equal(backendsRequired({ CI: "true", AKD_REQUIRE_BACKENDS: "0" }), true);
  for (const bad of ["yes", "", "true", "2"]) {
    assert.throws(
      () => backendsRequired({ AKD_REQUIRE_BACKENDS: bad }),
      (e: Error) => e.message === `AKD_REQUIRE_BACKENDS=${JSON.stringify(bad)}: expected 0 or 1`,
    );
  }
});

Deno.test("a backend without an adapter: ignored with the reason, or failed when required", () => {
  const missing = { missing: "backend 'dawn' has no WebGPU adapter here; install Mesa" };
  assert.deepEqual(planTest("dawn", missing, false), {
    ignore: "backend 'dawn' has no WebGPU adapter here; install Mesa",
  });
  assert.deepEqual(planTest("dawn", missing, true, ["subgroups"]), {
    fail: "backend dawn is required here (CI or AKD_REQUIRE_BACKENDS=1): " +
      "backend 'dawn' has no WebGPU adapter here; install Mesa",
  });
});

Deno.test("an adapter without a feature the test needs: ignored, naming the feature", () => {
  const engine = { gpu: { features: new Set(["shader-f16"]) } } as unknown as Engine;
  for (const required of [false, true]) {
    assert.deepEqual(planTest("native", { engine }, required), { run: engine });
    assert.deepEqual(planTest("native", { engine }, required, ["shader-f16"]), { run: engine });
    assert.deepEqual(planTest("native", { engine }, required, ["subgroups", "shader-f16"]), {
      ignore: "the native adapter has no subgroups",
    });
  }
});
