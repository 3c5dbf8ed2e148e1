/**
 * Runs a test body on every WebGPU backend present (both by default; narrow with
 * AKD_TEST_BACKENDS=dawn or =native). One engine per backend is shared across a test file.
 */
import { type Engine, initEngine, useEngine } from "../engine/context.ts";
import type { Backend } from "../engine/device.ts";

const engines = new Map<Backend, Promise<Engine | undefined>>();

export function testBackends(): Backend[] {
  const env = Deno.env.get("AKD_TEST_BACKENDS");
  return (env ? env.split(",") : ["dawn", "native"]) as Backend[];
}

function engineFor(backend: Backend): Promise<Engine | undefined> {
  let e = engines.get(backend);
  if (!e) {
    e = initEngine({ backend }).catch(() => undefined);
    engines.set(backend, e);
  }
  return e;
}

/** Registers `name [backend]` for each backend; the body runs with that engine current. */
export function gpuTest(name: string, fn: (backend: Backend) => Promise<void> | void): void {
  for (const backend of testBackends()) {
    Deno.test({
      name: `${name} [${backend}]`,
      sanitizeOps: false,
      sanitizeResources: false,
      fn: async () => {
        const e = await engineFor(backend);
        if (!e) throw new Error(`backend ${backend} has no adapter on this machine`);
        useEngine(e);
        await fn(backend);
        await e.sync();
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
