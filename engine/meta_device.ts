/**
 * A device that holds no memory and runs nothing, for walking real model code with shapes only
 * (`akd plan`, docs/cli.md): an `Engine` over it allocates, frees and flushes exactly as on the
 * real adapter (same pool, same stream, same kernel choices), so its pool's peak live bytes are
 * the real run's, while buffers are bare sizes and dispatches are dropped. It records the
 * largest buffer made and the largest range bound, the two things the adapter limits per buffer.
 *
 * Reads: a buffer small enough to be host-written flags or counters (≤ `KEPT_BYTES`) keeps what
 * the host wrote into it, so host logic that reads back values it set itself (input checks)
 * takes its ordinary path; any other read gives zeros, since no kernel ran.
 */
import type { Gpu } from "./device.ts";
import { closeEngine, currentEngine, Engine, useEngine } from "./context.ts";
import { LimitError } from "./errors.ts";

const KEPT_BYTES = 4096;

class MetaBuffer {
  data: Uint8Array | undefined;
  #destroyed = false;
  constructor(readonly size: number, readonly usage: number, readonly record: MetaRecord) {
    record.deviceBytes += size;
    record.peakDeviceBytes = Math.max(record.peakDeviceBytes, record.deviceBytes);
  }
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.record.deviceBytes -= this.size;
    this.data = undefined;
  }
  mapAsync(): Promise<void> {
    return Promise.resolve();
  }
  getMappedRange(): ArrayBuffer {
    return (this.data ?? new Uint8Array(this.size)).slice().buffer;
  }
  unmap(): void {}
  write(offset: number, bytes: Uint8Array): void {
    if (this.size > KEPT_BYTES) return;
    this.data ??= new Uint8Array(this.size);
    this.data.set(bytes, offset);
  }
}

/** What the walk asked of the device: buffer bytes, the largest buffer and bound range. */
export interface MetaRecord {
  largestBuffer: number;
  largestBinding: number;
  /** Bytes of every buffer not yet destroyed (pool, uniform arenas, readback staging). */
  deviceBytes: number;
  peakDeviceBytes: number;
}

const inert = () => ({});

function metaDevice(record: MetaRecord): GPUDevice {
  const pass = {
    setPipeline() {},
    setBindGroup() {},
    dispatchWorkgroups() {},
    end() {},
  };
  const device = {
    createBuffer(d: GPUBufferDescriptor) {
      record.largestBuffer = Math.max(record.largestBuffer, d.size);
      return new MetaBuffer(d.size, d.usage, record);
    },
    createBindGroup(d: GPUBindGroupDescriptor) {
      for (const e of d.entries) {
        const r = e.resource as GPUBufferBinding;
        const buf = r.buffer as unknown as MetaBuffer;
        const size = r.size ?? buf.size - (r.offset ?? 0);
        // The uniform arena is bound too; the storage limit is what the pool's buffers meet.
        if (buf.usage & GPUBufferUsage.STORAGE) {
          record.largestBinding = Math.max(record.largestBinding, size);
        }
      }
      return {};
    },
    createBindGroupLayout: inert,
    createPipelineLayout: inert,
    createShaderModule: inert,
    createComputePipeline: inert,
    createCommandEncoder() {
      return {
        beginComputePass: () => pass,
        copyBufferToBuffer(
          src: MetaBuffer,
          srcOffset: number,
          dst: MetaBuffer,
          dstOffset: number,
          bytes: number,
        ) {
          // A source no host wrote holds what no kernel computed: zeros.
          if (dst.size > KEPT_BYTES) return;
          dst.write(
            dstOffset,
            src.data?.subarray(srcOffset, srcOffset + bytes) ?? new Uint8Array(bytes),
          );
        },
        finish: inert,
      };
    },
    queue: {
      writeBuffer(
        dst: MetaBuffer,
        offset: number,
        data: ArrayBuffer,
        dataOffset = 0,
        size?: number,
      ) {
        dst.write(offset, new Uint8Array(data, dataOffset, size));
      },
      submit() {},
      onSubmittedWorkDone: () => Promise.resolve(),
    },
    lost: new Promise(() => {}),
    destroy() {},
  };
  return device as unknown as GPUDevice;
}

/** The adapter facts a meta device copies (kernel choices and chunking depend on them). */
export type AdapterLike = Pick<Gpu, "backend" | "adapter" | "features" | "limits">;

/**
 * A `Gpu` with `like`'s adapter, features and limits over a device that runs nothing; `record`
 * says what the walk asked of it.
 */
export function metaGpu(like: AdapterLike): Gpu & {
  record: MetaRecord;
} {
  const record: MetaRecord = {
    largestBuffer: 0,
    largestBinding: 0,
    deviceBytes: 0,
    peakDeviceBytes: 0,
  };
  return {
    device: metaDevice(record),
    backend: like.backend,
    adapter: like.adapter,
    features: like.features,
    limits: like.limits,
    takeError: () => undefined,
    collectErrors() {},
    destroy() {},
    instance: undefined,
    record,
  };
}

/** What one walk asked of the device. */
export interface MetaNeed {
  /** The pool's peak live bytes: tensors alive at once, models included. */
  peakBytes: number;
  /** Bytes the pool held at the end (live + its exact-size free lists, which it keeps). */
  allocatedBytes: number;
  /**
   * The most buffer bytes the engine held at once: the pool's live and free buffers, the
   * uniform arenas, readback staging. What the device's memory must hold.
   */
  deviceBytes: number;
  largestBuffer: number;
  largestBinding: number;
  /** The engine's own refusal (a LimitError) where the code checks a limit itself. */
  refused?: string;
}

/**
 * Runs `fn` on a fresh meta engine like `like`'s adapter and returns what it asked of the
 * device; the engine current before is current again after. A LimitError ends the walk and is
 * returned as `refused`; any other error is thrown.
 */
export async function walk(like: AdapterLike, fn: () => Promise<void> | void): Promise<MetaNeed> {
  const before = currentEngine();
  const gpu = metaGpu(like);
  const meta = new Engine(gpu);
  useEngine(meta);
  const need = (refused?: string): MetaNeed => ({
    peakBytes: meta.pool.peakLiveBytes,
    allocatedBytes: meta.pool.allocatedBytes,
    deviceBytes: gpu.record.peakDeviceBytes,
    largestBuffer: gpu.record.largestBuffer,
    largestBinding: gpu.record.largestBinding,
    ...(refused === undefined ? {} : { refused }),
  });
  try {
    await fn();
    await meta.sync();
    return need();
  } catch (e) {
    if (e instanceof LimitError) return need(e.message);
    throw e;
  } finally {
    if (before) {
      meta.destroy();
      useEngine(before);
    } else {
      closeEngine();
    }
  }
}
