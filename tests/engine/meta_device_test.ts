/**
 * The pool's peak live bytes, and the meta engine that `akd plan` walks code on: it allocates
 * exactly as the real engine does (same live and peak bytes for the same code), runs nothing,
 * and records the largest buffer and binding.
 */
import assert from "node:assert/strict";
import { gpuTest } from "../gpu.ts";
import { engine } from "../../engine/context.ts";
import { empty, scope, tensor } from "../../engine/tensor.ts";
import { unaryRaw } from "../../engine/ops/elementwise.ts";
import { walk } from "../../engine/meta_device.ts";

gpuTest("the pool's peak live bytes follow the largest live total until resetPeak", () => {
  const pool = engine().pool;
  const base = pool.liveBytes;
  pool.resetPeak();
  assert.equal(pool.peakLiveBytes, base);
  const a = empty([1000]); // 4000 bytes
  const b = empty([10]); // 40 → 48 (16-byte granule)
  assert.equal(pool.peakLiveBytes, base + 4048);
  a.dispose();
  const c = empty([100]); // 400: below the earlier peak
  assert.equal(pool.peakLiveBytes, base + 4048);
  pool.resetPeak();
  assert.equal(pool.peakLiveBytes, base + 448);
  b.dispose();
  c.dispose();
  assert.equal(pool.liveBytes, base);
});

gpuTest(
  "a walk on the meta engine sees the real engine's peak and records the largest buffer",
  async () => {
    const work = () =>
      scope(() => {
        const x = tensor(Float32Array.from({ length: 30000 }, (_, i) => i));
        const y = unaryRaw("affine", x, 2, 1);
        unaryRaw("affine", y, 3, 0);
      });
    const real = engine();
    const before = real.pool.liveBytes;
    real.pool.resetPeak();
    work();
    await real.sync();
    const measured = real.pool.peakLiveBytes - before;
    const need = await walk(real.gpu, work);
    // Larger than the stream's uniform arena (32 KiB), the one buffer outside the pool.
    assert.equal(need.peakBytes, measured);
    assert.equal(need.peakBytes, 3 * 120000);
    assert.equal(need.largestBuffer, 120000);
    assert.equal(need.largestBinding, 120000);
    // Beside the pool's buffers: the engine's 16-byte dummy and one or two 32 KiB uniform arenas.
    const others = need.deviceBytes - need.allocatedBytes - 16;
    assert.ok(others === 32768 || others === 65536, `other buffers: ${others} bytes`);
    assert.equal(engine(), real, "the real engine is current again after the walk");
  },
);

gpuTest(
  "a meta buffer keeps small host writes for readback, and reads zeros otherwise",
  async () => {
    let small: number[] = [];
    let large: number[] = [];
    await walk(engine().gpu, async () => {
      const s = tensor([7, 8, 9]);
      small = await s.toArray();
      // A kernel's output: nothing ran, so zeros.
      large = await unaryRaw("affine", s, 2, 0).toArray();
    });
    assert.deepEqual(small, [7, 8, 9]);
    assert.deepEqual(large, [0, 0, 0]);
  },
);
