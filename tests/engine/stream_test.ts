import assert from "node:assert/strict";
import { gpuTest } from "../gpu.ts";
import { engine } from "../../engine/context.ts";
import { empty, scope, tensor } from "../../engine/tensor.ts";
import { unaryRaw } from "../../engine/ops/elementwise.ts";

gpuTest("the adapter is acquired with real limits and named", (backend) => {
  const g = engine().gpu;
  assert.equal(g.backend, backend);
  assert.match(`${g.adapter.description} ${g.adapter.device}`, /\S/);
  // The real limits, not WebGPU's defaults (128 MiB binding, 16 KiB workgroup storage).
  assert.ok(g.limits.maxStorageBufferBindingSize >= 128 * 1024 * 1024);
  assert.ok(g.limits.maxComputeInvocationsPerWorkgroup >= 256);
});

gpuTest("a write after recorded dispatches does not overtake them", async () => {
  const e = engine();
  const src = tensor([1, 2, 3, 4]);
  // Recorded, not yet submitted: reads src as it is now.
  const doubled = unaryRaw("affine", src, 2, 0);
  // Overwrite src: the stream must flush first so `doubled` sees the old values.
  e.stream.write(src.buffer, 0, new Float32Array([10, 20, 30, 40]));
  const after = unaryRaw("affine", src, 2, 0);
  assert.deepEqual(Array.from(await doubled.read()), [2, 4, 6, 8]);
  assert.deepEqual(Array.from(await after.read()), [20, 40, 60, 80]);
  for (const t of [src, doubled, after]) t.dispose();
});

gpuTest("more dispatches than one batch keep their order and uniforms", async () => {
  const e = engine();
  const n = e.stream.maxBatch * 3 + 7;
  const result = await scope(() => {
    let x = tensor([0]);
    for (let i = 0; i < n; i++) x = unaryRaw("affine", x, 1, i % 5);
    return x;
  }).read();
  let want = 0;
  for (let i = 0; i < n; i++) want += i % 5;
  assert.equal(result[0], want);
});

gpuTest("the pool reuses freed buffers after the submit and counts bytes", async () => {
  const e = engine();
  await e.sync();
  const live = e.pool.liveBytes;
  const allocs = e.pool.allocations;
  for (let i = 0; i < 1000; i++) empty([257]).dispose();
  await e.sync();
  assert.equal(e.pool.liveBytes, live);
  // The first buffer returns after a submit; a few allocations at most, never 1,000.
  assert.ok(e.pool.allocations - allocs <= 2, `allocations grew by ${e.pool.allocations - allocs}`);
});

gpuTest("a shader error is raised naming the op", async () => {
  const e = engine();
  const bad = {
    name: "broken_kernel",
    source: "@compute @workgroup_size(1) fn main() { let x: u32 = 1.5; }",
    bindings: [],
  };
  // Backends report invalid shaders synchronously or at the next sync point: either way the
  // error must surface, naming the kernel.
  await assert.rejects(async () => {
    e.dispatch(bad, { buffers: {}, workgroups: [1] });
    await e.sync();
  }, /broken_kernel/);
});

gpuTest("sync waits only when work was queued since the queue was last seen finished", async () => {
  const e = engine();
  const x = tensor([1, 2, 3]);
  const y = unaryRaw("affine", x, 2, 1);
  assert.deepEqual(Array.from(await y.read()), [3, 5, 7]);
  const before = e.syncWaits;
  await e.sync(); // the read saw everything finish
  assert.equal(e.syncWaits, before);
  const z = unaryRaw("affine", y, 1, 1); // new work: sync must wait for it
  await e.sync();
  assert.equal(e.syncWaits, before + 1);
  e.stream.write(x.buffer, 0, new Float32Array([4, 5, 6])); // so must a queued write
  await e.sync();
  assert.equal(e.syncWaits, before + 2);
  await e.sync();
  assert.equal(e.syncWaits, before + 2);
  assert.deepEqual(Array.from(await z.read()), [4, 6, 8]);
  for (const t of [x, y, z]) t.dispose();
});
