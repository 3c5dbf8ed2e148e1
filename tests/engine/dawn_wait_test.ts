import assert from "node:assert/strict";
import { politeWait, pollsPolitely, SPIN_MS, TICK_MS } from "../../engine/dawn_wait.ts";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Ticks of a self-re-queuing setImmediate loop (Dawn's poller) after the first SPIN_MS of `wait`
 * on a `ms` sleep, and how long the wait took past SPIN_MS (the sleep overruns on a loaded host).
 */
async function lateTicks(wait: (p: () => Promise<void>) => Promise<void>, ms: number) {
  let late = 0, running = true, t0 = 0;
  const tick = () => {
    if (!running) return;
    if (performance.now() - t0 > SPIN_MS) late++;
    setImmediate(tick);
  };
  await wait(() => {
    t0 = performance.now(); // after the wrapper's own start: its spin ends before ours
    setImmediate(tick);
    return sleep(ms);
  });
  running = false;
  const lateMs = performance.now() - t0 - SPIN_MS;
  await sleep(5);
  return { late, lateMs };
}

Deno.test("politeWait slows immediate ticks to timer ticks after SPIN_MS, then restores them", async () => {
  const polite = await lateTicks(politeWait, 60);
  // At most one timer tick per TICK_MS (plus the one pending when the spin ended).
  assert(
    polite.late <= polite.lateMs / TICK_MS + 2,
    `polite: ${polite.late} ticks in ${polite.lateMs} ms`,
  );
  // Unwrapped (and once restored), the loop ticks many times per TICK_MS.
  const busy = await lateTicks((p) => p(), 60);
  assert(busy.late > 4 * busy.lateMs / TICK_MS, `busy: ${busy.late} ticks in ${busy.lateMs} ms`);
});

Deno.test("politeWait returns the result, rethrows, and restores setImmediate after overlapping waits", async () => {
  const own = globalThis.setImmediate;
  let release = () => {};
  const outer = politeWait(() => new Promise<string>((r) => (release = () => r("outer"))));
  assert(globalThis.setImmediate !== own);
  await assert.rejects(politeWait(() => Promise.reject(new Error("boom"))), /boom/);
  assert(globalThis.setImmediate !== own, "the outer wait is still pending");
  assert.equal(await politeWait(() => Promise.resolve(7)), 7);
  release();
  assert.equal(await outer, "outer");
  assert.equal(globalThis.setImmediate, own);
});

Deno.test("only Dawn on a software adapter waits politely", () => {
  const adapter = (isFallback: boolean) => ({
    vendor: "",
    architecture: "",
    device: "",
    description: "",
    isFallback,
  });
  assert(pollsPolitely({ backend: "dawn", adapter: adapter(true) }));
  assert(!pollsPolitely({ backend: "dawn", adapter: adapter(false) }));
  assert(!pollsPolitely({ backend: "native", adapter: adapter(true) }));
});
