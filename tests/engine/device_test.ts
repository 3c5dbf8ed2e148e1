/** Dawn's completion poll: paced by a timer on software adapters, a spin elsewhere. */
import assert from "node:assert/strict";
import timers from "node:timers";
import { acquireGpu, paceDawnPolling } from "../../engine/device.ts";
import { testBackends } from "../gpu.ts";

Deno.test("paceDawnPolling: setImmediate runs its callback, with its arguments, from a timer", async () => {
  const immediate = () => assert.fail("the original setImmediate was called");
  const global = {
    setImmediate: immediate as Parameters<typeof paceDawnPolling>[0]["setImmediate"],
  };
  paceDawnPolling(global);
  assert.notEqual(global.setImmediate, immediate);
  const start = performance.now();
  const got = await new Promise<unknown[]>((resolve) =>
    global.setImmediate((...args) => resolve(args), 7, "x")
  );
  assert.deepEqual(got, [7, "x"]);
  assert.ok(performance.now() - start >= 1, "ran before its 1 ms timer");
});

Deno.test({
  name: "Dawn's setImmediate is paced on a software adapter, Deno's own elsewhere",
  ignore: !testBackends().includes("dawn"),
  async fn() {
    const gpu = await acquireGpu("dawn");
    try {
      assert.equal(globalThis.setImmediate !== timers.setImmediate, gpu.adapter.isFallback);
    } finally {
      gpu.destroy();
    }
  },
});
