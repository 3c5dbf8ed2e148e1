/**
 * The one seeded generator of a run: Philox4x32-10 (Salmon et al., "Parallel random numbers: as
 * easy as 1, 2, 3", SC 2011; the Random123 reference). Counter-based, so a stream is just a key
 * and a block counter: state is tiny, exact to save, and a GPU kernel can draw from the same
 * sequence (`kernels/random/philox.wgsl`, run by `randomBits` in engine/ops/random.ts) given `key`
 * and a counter from `reserveBlocks`.
 *
 * Counter layout: draws use words 0-1 as a 64-bit block index (words 2-3 stay 0); stream keys
 * are derived from blocks whose word 2 is `STREAM_TAG`, which draws never reach.
 */
import { InputError } from "./errors.ts";

export type U32x2 = [number, number];
export type U32x4 = [number, number, number, number];

/** Everything needed to continue a stream exactly; plain numbers, so it survives JSON. */
export interface RngState {
  key: U32x2;
  counter: U32x4;
  /** Which of the 4 words of block `counter` comes next (0-3). */
  lane: number;
}

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9; // golden ratio
const W1 = 0xbb67ae85; // sqrt(3) - 1
const STREAM_TAG = 0x5354524d; // "STRM"
const TWO_32 = 2 ** 32;
const TWO_53 = 2 ** 53;

/**
 * High 32 bits of the 64-bit product of two u32s. Splitting into 16-bit halves keeps every
 * partial product below 2^32, so double arithmetic is exact (a*b itself would lose low bits).
 */
function mulhi32(a: number, b: number): number {
  const al = a & 0xffff;
  const ah = a >>> 16;
  const bl = b & 0xffff;
  const bh = b >>> 16;
  const lh = al * bh;
  const hl = ah * bl;
  const mid = ((al * bl) >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  return (ah * bh + (lh >>> 16) + (hl >>> 16) + (mid >>> 16)) >>> 0;
}

/** The Philox4x32 bijection with 10 rounds: one block of 4 random u32s per (counter, key). */
export function philox4x32(counter: U32x4, key: U32x2): U32x4 {
  let [c0, c1, c2, c3] = counter;
  let [k0, k1] = key;
  for (let round = 0; round < 10; round++) {
    if (round > 0) {
      k0 = (k0 + W0) >>> 0;
      k1 = (k1 + W1) >>> 0;
    }
    const hi0 = mulhi32(M0, c0);
    const lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulhi32(M1, c2);
    const lo1 = Math.imul(M1, c2) >>> 0;
    [c0, c1, c2, c3] = [(hi1 ^ c1 ^ k0) >>> 0, lo1, (hi0 ^ c3 ^ k1) >>> 0, lo0];
  }
  return [c0, c1, c2, c3];
}

/** FNV-1a (64-bit) of the UTF-8 bytes: a hash that never changes between versions or platforms. */
function nameHash(name: string): U32x2 {
  let h = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(name)) {
    h = ((h ^ BigInt(byte)) * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return [Number(h & 0xffffffffn), Number(h >> 32n)];
}

export class Rng {
  #key: U32x2;
  #counter: U32x4;
  #lane: number;
  #block: U32x4 | undefined;

  private constructor(key: U32x2, counter: U32x4, lane: number) {
    this.#key = key;
    this.#counter = counter;
    this.#lane = lane;
  }

  /** The root generator of a run; the seed (an integer in [0, 2^53)) is the Philox key. */
  static fromSeed(seed: number): Rng {
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new InputError(`seed ${seed} must be an integer in [0, 2^53)`);
    }
    return new Rng([seed >>> 0, Math.floor(seed / TWO_32)], [0, 0, 0, 0], 0);
  }

  /** Restores a generator saved with `state()`; it continues the very same sequence. */
  static fromState(state: RngState): Rng {
    const u32 = (v: unknown) => Number.isInteger(v) && (v as number) >= 0 && (v as number) < TWO_32;
    const { key, counter, lane } = (state ?? {}) as Partial<RngState>;
    if (!Array.isArray(key) || key.length !== 2 || !key.every(u32)) {
      throw new InputError("rng state: key must be 2 uint32 values");
    }
    if (
      !Array.isArray(counter) || counter.length !== 4 || !counter.every(u32) ||
      counter[2] !== 0 || counter[3] !== 0
    ) {
      throw new InputError("rng state: counter must be 4 uint32 values, the last two 0");
    }
    if (!Number.isInteger(lane) || lane! < 0 || lane! > 3) {
      throw new InputError("rng state: lane must be an integer in 0..3");
    }
    return new Rng([key[0], key[1]], [counter[0], counter[1], 0, 0], lane!);
  }

  state(): RngState {
    return { key: this.key, counter: this.counter, lane: this.#lane };
  }

  /** The Philox key of this stream (a copy). */
  get key(): U32x2 {
    const [k0, k1] = this.#key;
    return [k0, k1];
  }

  /** The Philox counter of the block the next word comes from (a copy). */
  get counter(): U32x4 {
    const [c0, c1, c2, c3] = this.#counter;
    return [c0, c1, c2, c3];
  }

  /**
   * An independent stream: its key depends only on this stream's key and the name, never on how
   * many numbers were drawn here, so adding draws in one stream never shifts another.
   */
  stream(name: string): Rng {
    const [h0, h1] = nameHash(name);
    const [k0, k1] = philox4x32([h0, h1, STREAM_TAG, 0], this.#key);
    return new Rng([k0, k1], [0, 0, 0, 0], 0);
  }

  /** A uniform 32-bit unsigned integer. */
  nextU32(): number {
    this.#block ??= philox4x32(this.#counter, this.#key);
    const value = this.#block[this.#lane];
    if (++this.#lane === 4) {
      this.#lane = 0;
      this.#advance(1);
    }
    return value;
  }

  /** A uniform float in [0, 1) with 53 random bits (a full double mantissa; uses 2 words). */
  uniform(): number {
    const high = this.nextU32() >>> 5; // 27 bits
    const low = this.nextU32() >>> 6; // 26 bits
    return (high * 2 ** 26 + low) / TWO_53;
  }

  /** A uniform integer in [0, n), n a positive integer up to 2^53, unbiased (by rejection). */
  int(n: number): number {
    if (!Number.isSafeInteger(n) || n < 1) {
      throw new RangeError(`Rng.int: n = ${n} is not a positive integer below 2^53`);
    }
    if (n <= TWO_32) {
      const limit = TWO_32 - (TWO_32 % n); // largest multiple of n that fits in 32 bits
      for (;;) {
        const u = this.nextU32();
        if (u < limit) return u % n;
      }
    }
    const limit = TWO_53 - (TWO_53 % n);
    for (;;) {
      const u = (this.nextU32() & 0x1fffff) * TWO_32 + this.nextU32();
      if (u < limit) return u % n;
    }
  }

  /** A normal sample (Box–Muller, one value per call, 4 words). */
  normal(mean = 0, std = 1): number {
    const radius = Math.sqrt(-2 * Math.log(1 - this.uniform())); // 1 - u is in (0, 1]
    return mean + std * radius * Math.cos(2 * Math.PI * this.uniform());
  }

  /** Shuffles in place (Fisher–Yates, front to back) and returns the same array. */
  shuffle<A extends { length: number; [index: number]: unknown }>(array: A): A {
    for (let i = 0; i < array.length - 1; i++) {
      const j = i + this.int(array.length - i);
      const t = array[i];
      array[i] = array[j];
      array[j] = t;
    }
    return array;
  }

  /** A uniform random permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    checkCount("permutation", n);
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    return this.shuffle(order);
  }

  /**
   * k distinct indices from 0..n-1 in random order, without replacement. Equal to the first k of
   * `permutation(n)` from the same state; memory is O(k) (displaced slots live in a map).
   */
  choice(n: number, k: number): Int32Array {
    checkCount("choice", n);
    if (!Number.isInteger(k) || k < 0 || k > n) {
      throw new RangeError(`Rng.choice: k = ${k} must be an integer in [0, ${n}]`);
    }
    const displaced = new Map<number, number>();
    const picked = new Int32Array(k);
    for (let i = 0; i < k && i < n - 1; i++) {
      const j = i + this.int(n - i);
      picked[i] = displaced.get(j) ?? j;
      displaced.set(j, displaced.get(i) ?? i);
    }
    if (k === n && n > 0) picked[n - 1] = displaced.get(n - 1) ?? n - 1;
    return picked;
  }

  /**
   * Reserves `count` fresh blocks for a GPU kernel and returns the counter of the first; this
   * stream continues after them. The range never carries out of word 0, so block i of it is
   * `vec4(counter.x + i, counter.yzw)`. A partly used block is skipped.
   */
  reserveBlocks(count: number): U32x4 {
    if (!Number.isInteger(count) || count < 0 || count > TWO_32) {
      throw new RangeError(`Rng.reserveBlocks: count = ${count} must be an integer in [0, 2^32]`);
    }
    if (this.#lane !== 0) {
      this.#lane = 0;
      this.#advance(1);
    }
    if (this.#counter[0] + count > TWO_32) this.#advance(TWO_32 - this.#counter[0]);
    const first = this.counter;
    this.#advance(count);
    return first;
  }

  #advance(blocks: number): void {
    const low = this.#counter[0] + blocks;
    const high = this.#counter[1] + Math.floor(low / TWO_32);
    if (high >= TWO_32) throw new Error("Rng: stream exhausted (2^64 blocks drawn)");
    this.#counter = [low >>> 0, high, 0, 0];
    this.#block = undefined;
  }
}

function checkCount(what: string, n: number): void {
  if (!Number.isInteger(n) || n < 0 || n > 0x7fffffff) {
    throw new RangeError(`Rng.${what}: n = ${n} must be an integer in [0, 2^31)`);
  }
}
