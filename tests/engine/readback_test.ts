/**
 * Readback: every byte comes back as written, through the canvas path (small reads on the
 * built-in backend, engine/canvas_readback.ts) and through a mapped staging buffer (larger
 * reads, and Dawn), at any size and offset; a batch's validation error still surfaces at the read.
 */
import assert from "node:assert/strict";
import { gpuTest } from "../gpu.ts";
import { engine } from "../../engine/context.ts";
import { CANVAS_READ_MAX, CanvasReadback } from "../../engine/canvas_readback.ts";
import { GpuError } from "../../engine/errors.ts";

/** Bytes where each byte position of a texel sees every value 0..255, NaN payloads included. */
function pattern(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 167 + (i >> 2) * 31 + seed) & 255;
  return out;
}

function buffer(data: Uint8Array): GPUBuffer {
  const e = engine();
  const b = e.device.createBuffer({
    size: Math.max(4, Math.ceil(data.length / 4) * 4),
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  });
  if (data.length > 0) e.stream.write(b, 0, data); // Deno 2.9.6 panics on an empty writeBuffer
  return b;
}

// Sizes around the canvas's 256-byte rows, its power-of-two heights and the canvas limit.
const SIZES = [4, 12, 252, 256, 260, 3 * 256 + 12, 5 * 256, CANVAS_READ_MAX - 4, CANVAS_READ_MAX];

gpuTest("reads give back every byte at any size and offset", async () => {
  const e = engine();
  for (
    const [k, bytes] of [0, ...SIZES, CANVAS_READ_MAX + 256, 3 * CANVAS_READ_MAX + 6].entries()
  ) {
    const offset = 4 * (k % 3) * 37; // 0, 148, 296: multiples of 4, not of a row
    const data = pattern(Math.ceil((offset + bytes) / 4) * 4, k);
    const b = buffer(data);
    try {
      const got = new Uint8Array(await e.read(b, bytes, offset));
      assert.equal(got.length, bytes);
      assert.deepEqual(got, data.subarray(offset, offset + bytes), `${bytes} bytes at ${offset}`);
    } finally {
      b.destroy();
    }
  }
});

gpuTest("reads in flight together each get their own bytes", async () => {
  const e = engine();
  const data = [pattern(12, 1), pattern(12, 2), pattern(300, 3)];
  const bufs = data.map(buffer);
  try {
    const got = await Promise.all(bufs.map((b, i) => e.read(b, data[i].length)));
    for (const [i, g] of got.entries()) assert.deepEqual(new Uint8Array(g), data[i]);
  } finally {
    for (const b of bufs) b.destroy();
  }
});

gpuTest("the canvas reader copies texel bytes verbatim", async (backend) => {
  if (backend !== "native") return; // OffscreenCanvas takes only the built-in backend's devices
  const e = engine();
  await e.sync();
  const reader = new CanvasReadback(e.device);
  for (const bytes of SIZES) {
    const data = pattern(bytes, bytes);
    const b = buffer(data);
    try {
      e.stream.flush();
      const encoder = e.device.createCommandEncoder();
      const receive = reader.record(encoder, b, 0, bytes);
      e.device.queue.submit([encoder.finish()]);
      assert.deepEqual(new Uint8Array(await receive()), data, `${bytes} bytes`);
    } finally {
      b.destroy();
    }
  }
  assert.throws(() => reader.record(e.device.createCommandEncoder(), e.dummy, 0, 6), /6 bytes/);
  reader.destroy();
});

gpuTest("a validation error in the batch surfaces at the read", async () => {
  const e = engine();
  const small = e.device.createBuffer({ size: 4, usage: GPUBufferUsage.COPY_SRC });
  const dst = e.device.createBuffer({ size: 16, usage: GPUBufferUsage.COPY_DST });
  const data = pattern(4, 9);
  const good = buffer(data);
  try {
    // A copy past the end of its source invalidates the batch, the read's own copy included.
    e.stream.transferEncoder().copyBufferToBuffer(small, 0, dst, 0, 8);
    await assert.rejects(() => e.read(small, 4), GpuError);
    // The engine goes on: the next read sees the next batch only.
    assert.deepEqual(new Uint8Array(await e.read(good, 4)), data);
  } finally {
    for (const b of [small, dst, good]) b.destroy();
  }
});
