/**
 * Runs a test body on every WebGPU backend under test: both by default, or the list in
 * `AKD_TEST_BACKENDS` (`dawn`, `native`, comma-separated). Each backend's engine is opened once,
 * when this module loads, so that a backend without an adapter is decided before any test is
 * registered: on a developer's machine its tests are registered as ignored, the reason in their
 * name; in CI (`CI=true`) or with `AKD_REQUIRE_BACKENDS=1` they fail with that reason.
 */
import { initEngine, useEngine } from "../engine/context.ts";
import type { Backend } from "../engine/device.ts";
import { GpuError } from "../engine/errors.ts";
import { backendsRequired, parseTestBackends, planTest, type Probe } from "./backends.ts";

/** Opens a backend's engine; only "no adapter" (a `GpuError` from initEngine) is a missing one. */
async function probe(backend: Backend): Promise<Probe> {
  try {
    return { engine: await initEngine({ backend }) };
  } catch (e) {
    if (e instanceof GpuError) return { missing: e.message };
    throw e;
  }
}

const backends = parseTestBackends(Deno.env.get("AKD_TEST_BACKENDS"));
const required = backendsRequired({
  CI: Deno.env.get("CI"),
  AKD_REQUIRE_BACKENDS: Deno.env.get("AKD_REQUIRE_BACKENDS"),
});
const probes = new Map<Backend, Probe>();
for (const backend of backends) probes.set(backend, await probe(backend));

export interface GpuTestOptions {
  /** Adapter features the test needs; without one it is ignored, saying which. */
  features?: readonly string[];
  /**
   * Run on one backend only (the built-in one when it is under test): for whole-run tests whose
   * kernels are already tested on both, where a second backend only adds minutes of compiles.
   */
  oneBackend?: boolean;
}

/** The backend a `oneBackend` test runs on. */
function oneOf(list: readonly Backend[]): Backend[] {
  return list.length ? [list.includes("native") ? "native" : list[0]] : [];
}

/** Registers `name [backend]` for each backend under test; the body runs with that engine. */
export function gpuTest(
  name: string,
  fn: (backend: Backend) => Promise<void> | void,
  { features, oneBackend }: GpuTestOptions = {},
): void {
  for (const backend of oneBackend ? oneOf(backends) : backends) {
    const plan = planTest(backend, probes.get(backend)!, required, features);
    const full = `${name} [${backend}]`;
    if ("ignore" in plan) {
      Deno.test({ name: `${full} (ignored: ${plan.ignore})`, ignore: true, fn() {} });
      continue;
    }
    Deno.test({
      name: full,
      sanitizeOps: false,
      sanitizeResources: false,
      fn: async () => {
        if ("fail" in plan) throw new Error(plan.fail);
        useEngine(plan.run);
        await fn(backend);
        await plan.run.sync();
      },
    });
  }
}

/** Asserts |a - b| <= atol + rtol·|b| elementwise, reporting the worst element. */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  { rtol = 1e-5, atol = 1e-6, what = "values" } = {},
): void {
  if (actual.length !== expected.length) {
    throw new Error(`${what}: length ${actual.length} != expected ${expected.length}`);
  }
  let worst = -1, worstErr = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i], b = expected[i];
    if (Number.isNaN(b) && Number.isNaN(a)) continue;
    if (a === b) continue; // equal infinities
    const err = Math.abs(a - b) - (atol + rtol * Math.abs(b));
    if (!(err <= 0) && (worst < 0 || !(err <= worstErr))) {
      worst = i;
      worstErr = err;
    }
  }
  if (worst >= 0) {
    throw new Error(
      `${what}: element ${worst}: got ${actual[worst]}, expected ${expected[worst]} ` +
        `(rtol ${rtol}, atol ${atol})`,
    );
  }
}

/** Deterministic pseudo-random test data in [lo, hi) (a small LCG: tests only). */
export function randomData(n: number, seed = 1, lo = -1, hi = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = lo + ((s >>> 8) / 16777216) * (hi - lo);
  }
  return out;
}

/**
 * The backends under test whose adapter opened, for tests that run the CLI or open engines of
 * their own (a missing backend already fails every `gpuTest` in CI).
 */
export function testBackends(): Backend[] {
  return backends.filter((b) => "engine" in probes.get(b)!);
}

/** The one backend a whole-run test of its own uses (see `GpuTestOptions.oneBackend`). */
export function oneTestBackend(): Backend[] {
  return oneOf(testBackends());
}
