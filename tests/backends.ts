/**
 * Which backends the tests run on, and what happens to a test on a backend without an adapter:
 * pure functions of the environment's values, so they are tested without a GPU (backends_test.ts).
 */
import type { Engine } from "../engine/context.ts";
import type { Backend } from "../engine/device.ts";

export const BACKENDS: readonly Backend[] = ["dawn", "native"];

/** The backends named by a value of `AKD_TEST_BACKENDS` (unset: all of them). */
export function parseTestBackends(value: string | undefined): Backend[] {
  if (value === undefined) return [...BACKENDS];
  const names = value.split(",");
  const bad = (why: string) =>
    new Error(
      `AKD_TEST_BACKENDS=${JSON.stringify(value)}: ${why}; ` +
        `expected a comma-separated list of ${BACKENDS.join(", ")}`,
    );
  for (const [i, name] of names.entries()) {
    if (name === "") throw bad("an empty entry");
    if (!BACKENDS.includes(name as Backend)) throw bad(`unknown backend "${name}"`);
    if (names.indexOf(name) !== i) throw bad(`"${name}" is listed twice`);
  }
  return names as Backend[];
}

/** Whether a backend without an adapter fails its tests: in CI, or when asked to. */
export function backendsRequired(env: { CI?: string; AKD_REQUIRE_BACKENDS?: string }): boolean {
  const asked = env.AKD_REQUIRE_BACKENDS;
  if (asked !== undefined && asked !== "0" && asked !== "1") {
    throw new Error(`AKD_REQUIRE_BACKENDS=${JSON.stringify(asked)}: expected 0 or 1`);
  }
  return asked === "1" || /^(true|1)$/i.test(env.CI ?? "");
}

/** What opening a backend gave: its engine, or why there is none. */
export type Probe = { engine: Engine } | { missing: string };

/** How a test on one backend is registered. */
export type Plan =
  | { run: Engine }
  | { ignore: string }
  | { fail: string };

/**
 * No adapter: ignored on a developer's machine, a failure when backends are required. A feature
 * the adapter lacks (`subgroups`) is ignored everywhere: software adapters do not all have it.
 */
export function planTest(
  backend: Backend,
  probe: Probe,
  required: boolean,
  features: readonly string[] = [],
): Plan {
  if ("missing" in probe) {
    return required
      ? {
        fail:
          `backend ${backend} is required here (CI or AKD_REQUIRE_BACKENDS=1): ${probe.missing}`,
      }
      : { ignore: probe.missing };
  }
  const lacking = features.filter((f) => !probe.engine.gpu.features.has(f));
  return lacking.length
    ? { ignore: `the ${backend} adapter has no ${lacking.join(", ")}` }
    : { run: probe.engine };
}
