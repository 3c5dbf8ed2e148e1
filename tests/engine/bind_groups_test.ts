import assert from "node:assert/strict";
import { gpuTest } from "../gpu.ts";
import { engine } from "../../engine/context.ts";
import { BindGroupCache } from "../../engine/bind_groups.ts";
import { tensor } from "../../engine/tensor.ts";
import { unaryRaw } from "../../engine/ops/elementwise.ts";

gpuTest("bind groups are made once per layout and buffers, whatever the uniform slot", async () => {
  const e = engine();
  const x = tensor(Float32Array.from({ length: 37 }, (_, i) => i - 18), [37]);
  /** 300 dispatches with changing uniforms: the slots and arenas cycle; returns groups made. */
  const chain = async () => {
    const before = e.bindGroups.size;
    let y = x;
    for (let i = 0; i < 300; i++) {
      const next = unaryRaw("affine", y, 1, i % 5);
      if (y !== x) y.dispose();
      y = next;
    }
    let shift = 0;
    for (let i = 0; i < 300; i++) shift += i % 5;
    assert.deepEqual(Array.from(await y.read()), Array.from(await x.read(), (v) => v + shift));
    y.dispose();
    return e.bindGroups.size - before;
  };
  // Repeats of the same work bind the same pooled buffers once the pool has settled: a few
  // new groups per pass (its free lists drift with flush points), not one per dispatch.
  const made: number[] = [];
  for (let pass = 0; pass < 5; pass++) made.push(await chain());
  for (const n of made.slice(2)) assert.ok(n <= 30, `passes made ${made} new bind groups`);
  x.dispose();
});

gpuTest("the cache gives one group per key, and drops them when the pool destroys buffers", () => {
  const e = engine();
  const cache = new BindGroupCache(e.device, 3);
  const layout = e.device.createBindGroupLayout({
    entries: [{ binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: "storage" } }],
  });
  const a = e.pool.acquire(64), b = e.pool.acquire(64);
  const group = (buffer: GPUBuffer, size?: number) =>
    cache.get(layout, [{ binding: 0, resource: { buffer, size } }]);
  assert.equal(group(a), group(a));
  assert.notEqual(group(a), group(b));
  assert.notEqual(group(a, 16), group(a));
  assert.equal(cache.size, 3);
  group(b, 16); // past capacity: the cache starts over
  assert.equal(cache.size, 1);
  e.pool.release(a);
  e.pool.release(b);
  const size = e.bindGroups.size;
  e.pool.trim();
  assert.equal(e.bindGroups.size, 0, `${size} groups kept after the pool destroyed buffers`);
});
