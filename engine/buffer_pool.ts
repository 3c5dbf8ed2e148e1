/**
 * An exact-size pool of storage buffers. A released buffer becomes reusable only after the
 * submit that may still use it (`afterSubmit`), so reuse can never race a queued command.
 */
const STORAGE_USAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

/** Allocation granule: keeps every binding a multiple of 16 bytes so vec4 views are legal. */
export const BUFFER_ALIGN = 16;

export function alignedSize(bytes: number): number {
  return Math.max(BUFFER_ALIGN, Math.ceil(bytes / BUFFER_ALIGN) * BUFFER_ALIGN);
}

export class BufferPool {
  #free = new Map<number, GPUBuffer[]>();
  #released: GPUBuffer[] = [];
  /** Bytes held by live tensors. */
  liveBytes = 0;
  /** The most `liveBytes` has been since the pool was made or `resetPeak` last ran. */
  peakLiveBytes = 0;
  /** Bytes of GPU memory this pool holds, live or free. */
  allocatedBytes = 0;
  allocations = 0;
  /** Whether commands are recorded but not yet submitted (set by the stream). */
  hasPendingWork: () => boolean = () => true;
  /** Called after `trim` destroyed buffers (the engine drops bind groups that bound them). */
  onTrim: () => void = () => {};

  constructor(private device: GPUDevice) {}

  acquire(bytes: number): GPUBuffer {
    const size = alignedSize(bytes);
    const list = this.#free.get(size);
    let buf = list?.pop();
    if (!buf) {
      buf = this.device.createBuffer({ size, usage: STORAGE_USAGE });
      this.allocatedBytes += size;
      this.allocations++;
    }
    this.liveBytes += size;
    if (this.liveBytes > this.peakLiveBytes) this.peakLiveBytes = this.liveBytes;
    return buf;
  }

  /** Starts a new peak from the bytes live now (to measure one phase's peak). */
  resetPeak(): void {
    this.peakLiveBytes = this.liveBytes;
  }

  /** Hands a buffer back; it is reusable once the pending work has been submitted. */
  release(buf: GPUBuffer): void {
    this.liveBytes -= buf.size;
    this.#released.push(buf);
    // With nothing recorded since the last submit, no queued command can still be unsubmitted.
    if (!this.hasPendingWork()) this.afterSubmit();
  }

  /** Called by the stream right after a submit: released buffers become reusable. */
  afterSubmit(): void {
    for (const buf of this.#released) {
      const list = this.#free.get(buf.size);
      if (list) list.push(buf);
      else this.#free.set(buf.size, [buf]);
    }
    this.#released.length = 0;
  }

  /** Frees every idle buffer (e.g. between experiments). */
  trim(): void {
    for (const list of this.#free.values()) {
      for (const b of list) {
        this.allocatedBytes -= b.size;
        b.destroy();
      }
    }
    this.#free.clear();
    this.onTrim();
  }
}
