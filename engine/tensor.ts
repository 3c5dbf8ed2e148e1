/**
 * Tensors: a shape, a dtype and a pooled GPU buffer, owned explicitly. A tensor starts with one
 * reference; `retain()` adds one, `dispose()` drops one, and the buffer returns to the pool at
 * zero. `scope(fn)` disposes every tensor created inside `fn` that `fn` does not return, so
 * memory never depends on the garbage collector.
 */
import { engine } from "./context.ts";
import type { GradNode } from "./autograd.ts";

export type DType = "f32" | "i32" | "u32" | "u8" | "f16";

/** Bytes per element (u8 is stored packed, four to a u32 word). */
export const DTYPE_BYTES: Record<DType, number> = { f32: 4, i32: 4, u32: 4, u8: 1, f16: 2 };

export type HostArray = Float32Array | Int32Array | Uint32Array | Uint8Array;

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`bad shape [${shape}]`);
    n *= d;
  }
  return n;
}

/** Something a scope can own: tensors, and autograd nodes holding saved tensors. */
interface Owned {
  dispose(): void;
}

/** A pooled buffer shared by a tensor and its views (reshape); freed when no tensor uses it. */
export interface Storage {
  buffer: GPUBuffer;
  users: number;
}

const scopes: Set<Owned>[] = [];
/** Autograd nodes live until backward consumes them or the outermost scope ends. */
const graphOwners: Set<Owned>[] = [];
const unscopedGraph = new Set<Owned>();

export class Tensor {
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly size: number;
  #storage: Storage | undefined;
  #refs = 1;
  #created = true;
  requiresGrad = false;
  grad: Tensor | undefined;
  node: GradNode | undefined;
  /** The scope holding this tensor's creation reference, if any. */
  owner: Set<Owned> | undefined;

  /** A new tensor; with `storage`, a view sharing that buffer (it must be large enough). */
  constructor(shape: readonly number[], dtype: DType = "f32", storage?: Storage) {
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    this.size = numel(shape);
    if (storage) {
      if (storage.buffer.size < this.byteLength) throw new Error(`view [${shape}] too large`);
      storage.users++;
      this.#storage = storage;
    } else {
      this.#storage = { buffer: engine().pool.acquire(this.byteLength), users: 1 };
    }
    this.owner = scopes.at(-1);
    this.owner?.add(this);
  }

  get byteLength(): number {
    return Math.max(4, Math.ceil((this.size * DTYPE_BYTES[this.dtype]) / 4) * 4);
  }

  get buffer(): GPUBuffer {
    if (!this.#storage) throw new Error(`use of a disposed tensor [${this.shape}]`);
    return this.#storage.buffer;
  }

  /** The shared storage, for making views. */
  get storage(): Storage {
    if (!this.#storage) throw new Error(`use of a disposed tensor [${this.shape}]`);
    return this.#storage;
  }

  get disposed(): boolean {
    return this.#storage === undefined;
  }

  get rank(): number {
    return this.shape.length;
  }

  /** Adds a holder (autograd saved tensors): it lets go with `release()`. */
  retain(): this {
    if (!this.#storage) throw new Error(`retain of a disposed tensor [${this.shape}]`);
    this.#refs++;
    return this;
  }

  /** Drops a holder's reference; the buffer returns to the pool when none is left. */
  release(): void {
    if (!this.#storage || --this.#refs > 0) return;
    if (--this.#storage.users === 0) engine().pool.release(this.#storage.buffer);
    this.#storage = undefined;
    this.grad?.dispose();
    this.grad = undefined;
  }

  /**
   * Drops the creation reference (idempotent): explicitly, or by the owning scope when it
   * ends. Holders that retained the tensor keep it alive until they release it.
   */
  dispose(): void {
    if (this.#created === false) return;
    this.#created = false;
    this.owner?.delete(this);
    this.owner = undefined;
    this.release();
  }

  /** Copies the data to the host after all recorded work has run. */
  async read(): Promise<HostArray> {
    const bytes = await engine().read(this.buffer, this.byteLength);
    switch (this.dtype) {
      case "f32":
        return new Float32Array(bytes, 0, this.size);
      case "i32":
        return new Int32Array(bytes, 0, this.size);
      case "u32":
        return new Uint32Array(bytes, 0, this.size);
      case "u8":
        return new Uint8Array(bytes, 0, this.size);
      case "f16":
        // The platform's IEEE binary16 (Float16Array): the one float16 conversion we use.
        return Float32Array.from(new Float16Array(bytes, 0, this.size));
    }
  }

  async toArray(): Promise<number[]> {
    return Array.from(await this.read());
  }

  /** A scalar tensor's value. */
  async item(): Promise<number> {
    if (this.size !== 1) throw new Error(`item() of a tensor with ${this.size} elements`);
    return (await this.read())[0];
  }

  toString(): string {
    return `Tensor(${this.dtype}[${this.shape}])`;
  }
}

/** A second tensor object over the same storage and shape (its own creation reference). */
export function alias(t: Tensor): Tensor {
  return new Tensor(t.shape, t.dtype, t.storage);
}

/** An uninitialised tensor. */
export function empty(shape: readonly number[], dtype: DType = "f32"): Tensor {
  return new Tensor(shape, dtype);
}

/** The typed array holding each dtype's values on the host. */
const HOST_ARRAY = {
  f32: Float32Array,
  i32: Int32Array,
  u32: Uint32Array,
  u8: Uint8Array,
  f16: Float16Array,
} as const;

/** Uploads host data (numbers are converted to the dtype). */
export function tensor(
  data: ArrayLike<number>,
  shape: readonly number[] = [data.length],
  dtype: DType = data instanceof Int32Array ? "i32" : data instanceof Uint32Array ? "u32" : "f32",
): Tensor {
  const n = numel(shape);
  if (data.length !== n) {
    throw new Error(`tensor(): ${data.length} values for shape [${shape}] (${n} elements)`);
  }
  const t = new Tensor(shape, dtype);
  // Float16Array.from rounds to nearest even, as torch's .half().
  const array = HOST_ARRAY[dtype];
  const host = data instanceof array ? data : array.from(data);
  if (host.byteLength === t.byteLength) {
    // Already the buffer's bytes: no host copy (a pool streamed in slices would otherwise leave
    // two slice-sized copies per slice for the garbage collector, tens of MB of peak memory).
    engine().stream.write(t.buffer, 0, host);
  } else {
    const padded = new Uint8Array(t.byteLength);
    padded.set(new Uint8Array(host.buffer, host.byteOffset, host.byteLength));
    engine().stream.write(t.buffer, 0, padded);
  }
  return t;
}

function escaping(result: unknown, into: Set<Tensor>, depth = 0): void {
  if (result instanceof Tensor) into.add(result);
  else if (depth < 3 && Array.isArray(result)) {
    for (const r of result) escaping(r, into, depth + 1);
  } else if (depth < 3 && result && typeof result === "object" && !(result instanceof Promise)) {
    for (const r of Object.values(result)) escaping(r, into, depth + 1);
  }
}

function openScope(): Set<Owned> {
  const s = new Set<Owned>();
  scopes.push(s);
  if (scopes.length === 1) graphOwners.push(new Set());
  return s;
}

/** Scopes an interleaved close left open: they fail too when they end. */
const interleaved = new WeakSet<Set<Owned>>();

function closeScope(s: Set<Owned>, result: unknown): void {
  if (scopes.at(-1) !== s || interleaved.has(s)) {
    // Scopes must nest. Two scopeAsync calls that overlap share the stack, so each one's tensors
    // may sit in the other's set: freeing either set could free live tensors. Free nothing
    // (a leak beats a use-after-free) and fail loudly here and in the scopes opened after this.
    const i = scopes.indexOf(s);
    if (i >= 0) {
      for (const later of scopes.splice(i)) if (later !== s) interleaved.add(later);
    }
    if (scopes.length === 0) graphOwners.pop();
    throw new Error(
      "scopeAsync: scopes ended out of order (two scopeAsync calls overlapped; await one " +
        "before starting the next)",
    );
  }
  scopes.pop();
  const keepSet = new Set<Tensor>();
  escaping(result, keepSet);
  const parent = scopes.at(-1);
  for (const o of s) {
    if (keepSet.has(o as Tensor)) {
      (o as Tensor).owner = parent;
      parent?.add(o);
    } else o.dispose();
  }
  if (scopes.length === 0) {
    for (const n of graphOwners.pop() ?? []) n.dispose();
  }
}

/** Runs `fn`; every tensor it creates and does not return is disposed when it ends. */
export function scope<T>(fn: () => T): T {
  const s = openScope();
  let result: T | undefined;
  try {
    result = fn();
    if (result instanceof Promise) throw new Error("scope(fn) got an async fn: use scopeAsync");
    return result;
  } finally {
    closeScope(s, result);
  }
}

/**
 * `scope` for async work. Scopes nest like calls: a scopeAsync must end before any scope opened
 * before it (so never run two at once, e.g. under Promise.all); one that ends out of order throws.
 */
export async function scopeAsync<T>(fn: () => Promise<T>): Promise<T> {
  const s = openScope();
  let result: T | undefined;
  try {
    result = await fn();
    return result;
  } finally {
    closeScope(s, result);
  }
}

/** Removes tensors from the current scope: the caller owns them (e.g. parameters, caches). */
export function keep<T extends Tensor>(t: T): T {
  t.owner?.delete(t);
  t.owner = undefined;
  return t;
}

/** Registers an autograd node with the outermost scope (or globally outside any scope). */
export function ownGraphNode(node: Owned): void {
  (graphOwners.at(-1) ?? unscopedGraph).add(node);
}

/** Forgets a node that released itself (after backward). */
export function disownGraphNode(node: Owned): void {
  graphOwners.at(-1)?.delete(node);
  unscopedGraph.delete(node);
}
