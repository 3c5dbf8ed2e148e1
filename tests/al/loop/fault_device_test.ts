/**
 * The GPU device lost in the middle of a training step (issue 14, "Faults"): a progress
 * stand-in destroys the device (`GPUDevice.destroy()`, behind the engine's back) at the second
 * step of round 2's training. The run must fail with a GpuError naming the ops in flight (not an
 * InputError: cli/main.ts maps it to exit 1), and `--resume` on a new device must end with the
 * report of an uninterrupted run.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Progress } from "../../../al/progress.ts";
import { closeEngine, engine, initEngine } from "../../../engine/context.ts";
import { GpuError } from "../../../engine/errors.ts";
import { oneTestBackend } from "../../gpu.ts";
import { experiment, timeless, tinyConfig, withDir } from "./fault_run.ts";

/** Silent progress that destroys the device at step `step` of the phase labelled `label`. */
function losingDevice(label: string, step: number): Progress & { lost: boolean } {
  const p = {
    lost: false,
    log() {},
    phase(l: string) {
      let done = 0;
      return {
        tick(n = 1) {
          done += n;
          if (l === label && done === step) {
            engine().device.destroy();
            p.lost = true;
          }
        },
        end() {},
      };
    },
  };
  return p;
}

// One backend: the whole-run test's kernels are tested on both elsewhere (the built-in backend
// when it is among those tested).
for (const backend of oneTestBackend()) {
  Deno.test({
    name:
      `fault: the device lost mid-step fails naming the op; --resume completes on a new device [${backend}]`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      await withDir(async (dir) => {
        await initEngine({ backend });
        try {
          const ref = await tinyConfig(dir, join(dir, "ref"));
          await experiment(ref);
          const whole = await timeless(ref.out);

          const config = { ...ref, out: join(dir, "lost") };
          const progress = losingDevice("train seed 1 pcoreset round 2", 2);
          await assert.rejects(experiment(config, { progress }), (e) => {
            assert.ok(e instanceof GpuError, `not a GpuError: ${(e as Error).stack}`);
            assert.match(e.message, /^GPU error in ops \[[^\]]+\]: device lost/);
            return true;
          });
          assert.ok(progress.lost, "the device was never destroyed");
          closeEngine();

          await initEngine({ backend });
          const resumed = await experiment(config, { resume: true });
          assert.equal(resumed.skipped, false);
          assert.deepEqual(await timeless(config.out), whole);
        } finally {
          closeEngine();
        }
      });
    },
  });
}
