/**
 * Waiting on Dawn without a busy core. Dawn's node binding (`npm:webgpu`) delivers its promises
 * by polling its instance from a callback it re-queues through `globalThis.setImmediate` for as
 * long as any of its promises is pending: a busy loop on the main thread. On a software adapter
 * that loop takes a core from the adapter's own workers (llvmpipe on this project's 2 cores: the
 * 1024³ GEMM ran at 13.4 GFLOP/s wall with it, 24.1 without, same kernel and run). So while the
 * engine waits on such a device, the ticks queued after the first SPIN_MS go through a 1 ms timer
 * instead: a short wait still returns at once, a long one wakes at most a timer tick late. (Dawn
 * ignores the handle `setImmediate` returns; other code cannot clear an immediate it queues
 * during such a wait.)
 */
import type { Gpu } from "./device.ts";

/** How long a wait keeps Dawn's immediate ticks (readback of small work stays sub-millisecond). */
export const SPIN_MS = 1;
/** The timer that carries Dawn's ticks after SPIN_MS. */
export const TICK_MS = 1;

type Immediate = (fn: (...args: unknown[]) => void, ...args: unknown[]) => unknown;
const host = globalThis as unknown as { setImmediate: Immediate };

let waits = 0;
let original: Immediate | undefined;

/** Whether waits on this device go through `politeWait` (Dawn on a software adapter). */
export function pollsPolitely(gpu: Pick<Gpu, "backend" | "adapter">): boolean {
  return gpu.backend === "dawn" && gpu.adapter.isFallback;
}

/**
 * `promise()`'s result, with `globalThis.setImmediate` slowed to TICK_MS timers once SPIN_MS have
 * passed, until the last of the overlapping waits settles (then the original is back).
 */
export async function politeWait<T>(promise: () => Promise<T>): Promise<T> {
  if (waits++ === 0) {
    const immediate = host.setImmediate;
    const t0 = performance.now();
    original = immediate;
    host.setImmediate = (fn, ...args) =>
      performance.now() - t0 < SPIN_MS
        ? immediate(fn, ...args)
        : setTimeout(() => fn(...args), TICK_MS);
  }
  try {
    return await promise();
  } finally {
    if (--waits === 0) host.setImmediate = original!;
  }
}

/** Awaits a promise of `gpu`'s backend: politely where it busy-polls a software adapter's CPU. */
export function waitFor<T>(gpu: Pick<Gpu, "backend" | "adapter">, promise: () => Promise<T>) {
  return pollsPolitely(gpu) ? politeWait(promise) : promise();
}
