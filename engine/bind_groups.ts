/**
 * Bind groups, made once per (layout, bound buffer ranges) and reused. A training step binds
 * the same pooled buffers step after step, and a fresh bind group per dispatch is not only CPU
 * work: Deno's built-in WebGPU frees bind groups only when the garbage collector finalises them,
 * and on lavapipe each one holds a memory mapping, so a long run reached the kernel's mapping
 * limit (65,530) and crashed after ~160 training steps. The pool hands out buffers in an order
 * that drifts with flush points, so new combinations keep appearing slowly: past `capacity`
 * the cache is dropped and a garbage collection releases the dropped groups. The cache is also
 * dropped whenever the pool destroys buffers.
 */
import { collectGarbage } from "./gc.ts";

export class BindGroupCache {
  readonly #groups = new Map<string, GPUBindGroup>();
  readonly #ids = new WeakMap<object, number>();
  #next = 0;

  constructor(readonly device: GPUDevice, readonly capacity = 4096) {}

  get size(): number {
    return this.#groups.size;
  }

  #id(o: object): number {
    let id = this.#ids.get(o);
    if (id === undefined) this.#ids.set(o, id = this.#next++);
    return id;
  }

  get(
    layout: GPUBindGroupLayout,
    entries: readonly { binding: number; resource: GPUBufferBinding }[],
  ) {
    let key = String(this.#id(layout));
    for (const e of entries) {
      const r = e.resource;
      key += `|${e.binding}:${this.#id(r.buffer)}:${r.offset ?? 0}:${r.size ?? ""}`;
    }
    let group = this.#groups.get(key);
    if (!group) {
      if (this.#groups.size >= this.capacity) {
        this.#groups.clear();
        collectGarbage();
      }
      group = this.device.createBindGroup({ layout, entries: entries as GPUBindGroupEntry[] });
      this.#groups.set(key, group);
    }
    return group;
  }

  clear(): void {
    this.#groups.clear();
  }
}
