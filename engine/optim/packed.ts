/**
 * Parameters packed for a fused optimiser kernel: one flat buffer of all parameters and one of
 * their gradients, filled by buffer copies before the kernel and copied back after it, so a
 * single dispatch updates every parameter. Optimiser state lives in flat buffers with the same
 * offsets. Each parameter starts on a `CHUNK` boundary: a workgroup then updates one parameter
 * only and finds it with one read of the chunk table (a per-element search cost ~2x the update).
 */
import { engine } from "../context.ts";
import { InputError } from "../errors.ts";
import { empty, keep, type Tensor, tensor } from "../tensor.ts";
import { zeros } from "../ops/elementwise.ts";

/** Elements per workgroup of the fused optimiser kernels (their WG). */
export const CHUNK = 256;

export class PackedParams {
  readonly params: readonly Tensor[];
  /** Element offset of each parameter in the flat buffers. */
  readonly offsets: readonly number[];
  /** Flat length: the parameters, each padded to whole chunks. */
  readonly total: number;
  readonly flatParam: Tensor;
  readonly flatGrad: Tensor;
  /** u32 per chunk: the index of the parameter it belongs to. */
  readonly chunkParam: Tensor;

  constructor(params: Iterable<Tensor>, what: string) {
    this.params = [...params];
    if (this.params.length === 0) throw new InputError(`${what}: got an empty parameter list`);
    if (new Set(this.params).size !== this.params.length) {
      throw new InputError(`${what}: a parameter appears more than once`);
    }
    const offsets: number[] = [];
    const owners: number[] = [];
    this.params.forEach((p, k) => {
      if (p.dtype !== "f32") throw new InputError(`${what}: parameter [${p.shape}] is ${p.dtype}`);
      offsets.push(owners.length * CHUNK);
      for (let c = 0; c < Math.ceil(p.size / CHUNK); c++) owners.push(k);
    });
    this.offsets = offsets;
    this.total = owners.length * CHUNK;
    this.flatParam = keep(empty([this.total]));
    this.flatGrad = keep(empty([this.total]));
    this.chunkParam = keep(tensor(Uint32Array.from(owners), [owners.length], "u32"));
  }

  get chunks(): number {
    return this.chunkParam.size;
  }

  /** A zero-filled state buffer aligned with the parameters (the caller disposes it). */
  zerosLike(): Tensor {
    return keep(zeros([this.total]));
  }

  /** Which parameters have a gradient now (PyTorch skips those whose grad is None). */
  active(): boolean[] {
    return this.params.map((p, k) => {
      if (!p.grad) return false;
      if (p.grad.size !== p.size || p.grad.dtype !== "f32") {
        throw new Error(`optimizer: parameter ${k} [${p.shape}] has a grad [${p.grad.shape}]`);
      }
      return p.size > 0;
    });
  }

  /** Copies the active parameters and their gradients into the flat buffers. */
  gather(active: readonly boolean[]): void {
    const stream = engine().stream;
    this.params.forEach((p, k) => {
      if (!active[k]) return;
      const at = this.offsets[k] * 4;
      stream.copy(p.buffer, 0, this.flatParam.buffer, at, p.size * 4);
      stream.copy(p.grad!.buffer, 0, this.flatGrad.buffer, at, p.size * 4);
    });
  }

  /** Copies the updated active parameters back. */
  scatter(active: readonly boolean[]): void {
    const stream = engine().stream;
    this.params.forEach((p, k) => {
      if (active[k]) {
        stream.copy(this.flatParam.buffer, this.offsets[k] * 4, p.buffer, 0, p.size * 4);
      }
    });
  }

  /** Splits a flat state buffer read back from the device into per-parameter arrays. */
  split(flat: Float32Array): Float32Array[] {
    return this.params.map((p, k) => flat.slice(this.offsets[k], this.offsets[k] + p.size));
  }

  /** Uploads per-parameter host arrays into a flat state buffer. */
  upload(flat: Tensor, parts: readonly Float32Array[]): void {
    const host = new Float32Array(flat.size);
    parts.forEach((part, k) => host.set(part, this.offsets[k]));
    engine().stream.write(flat.buffer, 0, host);
  }

  dispose(): void {
    this.flatParam.dispose();
    this.flatGrad.dispose();
    this.chunkParam.dispose();
  }
}
