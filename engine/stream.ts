/**
 * One command stream: one encoder with one open compute pass, flushed (submitted) every
 * `maxBatch` dispatches, before any `writeBuffer`, and at readback. Uniforms of a batch live in
 * one arena buffer written just before the batch's submit, so recording a dispatch never
 * touches the queue.
 */
import type { BufferPool } from "./buffer_pool.ts";

const UNIFORM_SLOT = 256; // minUniformBufferOffsetAlignment on every adapter we know

export class Stream {
  #encoder: GPUCommandEncoder | undefined;
  #pass: GPUComputePassEncoder | undefined;
  #uniformCpu: Uint8Array<ArrayBuffer>;
  #uniformGpu: GPUBuffer[] = [];
  #arena = 0;
  #slots = 0;
  #labels: string[] = [];
  readonly maxBatch: number;
  dispatches = 0;
  submits = 0;
  writes = 0;

  constructor(private device: GPUDevice, private pool: BufferPool, maxBatch = 128) {
    this.maxBatch = maxBatch;
    this.#uniformCpu = new Uint8Array(UNIFORM_SLOT * maxBatch);
    pool.hasPendingWork = () => this.#encoder !== undefined;
  }

  /** Labels of the ops recorded in the batch not yet submitted (for error messages). */
  get pendingLabels(): readonly string[] {
    return this.#labels;
  }

  /**
   * Reserves a uniform slot for the next dispatch: the binding of the arena (offset 0) and the
   * slot's dynamic offset, to pass to `dispatch`.
   */
  uniform(bytes: Uint8Array): { binding: GPUBufferBinding; offset: number } {
    if (bytes.byteLength > UNIFORM_SLOT) throw new Error("uniform struct larger than 256 bytes");
    if (this.#slots === this.maxBatch) this.flush();
    this.#uniformCpu.set(bytes, this.#slots * UNIFORM_SLOT);
    const slot = {
      binding: {
        buffer: this.#arenaBuffer(),
        offset: 0,
        size: Math.max(16, Math.ceil(bytes.byteLength / 16) * 16),
      },
      offset: this.#slots * UNIFORM_SLOT,
    };
    this.#slots++;
    return slot;
  }

  #arenaBuffer(): GPUBuffer {
    // Two arenas alternate so a batch never rewrites the uniforms the previous submit reads on
    // backends that do not snapshot writeBuffer data (queue order makes one enough on Dawn/wgpu).
    let buf = this.#uniformGpu[this.#arena];
    if (!buf) {
      buf = this.device.createBuffer({
        size: this.#uniformCpu.byteLength,
        usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
      });
      this.#uniformGpu[this.#arena] = buf;
    }
    return buf;
  }

  #passEncoder(): GPUComputePassEncoder {
    if (!this.#pass) {
      this.#encoder ??= this.device.createCommandEncoder();
      this.#pass = this.#encoder.beginComputePass();
    }
    return this.#pass;
  }

  dispatch(
    pipeline: GPUComputePipeline,
    bindGroup: GPUBindGroup,
    workgroups: readonly [number, number, number],
    label: string,
    dynamicOffsets: number[] = [],
  ): void {
    const pass = this.#passEncoder();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup, dynamicOffsets);
    pass.dispatchWorkgroups(workgroups[0], workgroups[1], workgroups[2]);
    this.#labels.push(label);
    this.dispatches++;
    // The uniform slot count is the batch size: flush happens on the next uniform() when full.
  }

  /**
   * The encoder, for a transfer command in stream order (ends the open pass; the next dispatch
   * opens one).
   */
  transferEncoder(): GPUCommandEncoder {
    if (this.#pass) {
      this.#pass.end();
      this.#pass = undefined;
    }
    return this.#encoder ??= this.device.createCommandEncoder();
  }

  /** Copies between buffers in stream order. */
  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
    this.transferEncoder().copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
  }

  /** Submits everything recorded so far. */
  flush(): void {
    if (this.#pass) {
      this.#pass.end();
      this.#pass = undefined;
    }
    if (this.#encoder) {
      if (this.#slots > 0) {
        this.device.queue.writeBuffer(
          this.#arenaBuffer(),
          0,
          this.#uniformCpu,
          0,
          this.#slots * UNIFORM_SLOT,
        );
      }
      this.device.queue.submit([this.#encoder.finish()]);
      this.#encoder = undefined;
      this.submits++;
      this.#arena ^= 1;
    }
    this.#slots = 0;
    this.#labels = [];
    this.pool.afterSubmit();
  }

  /** Writes host data into a buffer in stream order (everything recorded before it runs first). */
  write(dst: GPUBuffer, offset: number, data: ArrayBufferView): void {
    this.flush();
    this.writes++;
    this.device.queue.writeBuffer(
      dst,
      offset,
      data.buffer as ArrayBuffer,
      data.byteOffset,
      data.byteLength,
    );
  }

  /** Counts the queue operations issued so far: equal counts mean nothing new was queued. */
  get queued(): number {
    return this.submits + this.writes;
  }

  destroy(): void {
    // Sparse until both arenas have been used.
    for (const b of this.#uniformGpu) b?.destroy();
    this.#uniformGpu = [];
  }
}
