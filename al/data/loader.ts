/**
 * Batch samplers of one ActiveKD training round (docs/method.md §1, as the official code builds its
 * loaders), over indices into the train split:
 * - labeled: the list is padded to a multiple of the batch by repeating its first items, then
 *   `repeat × (padded length)` draws are made with replacement, `batch` per step, so a round has
 *   `repeat · ⌈|L| / batch⌉` steps;
 * - unlabeled: padded the same way, reshuffled at the start of every pass, and cycled for as long
 *   as the labeled sampler runs (every batch full).
 */
import type { Image, ImageSet } from "./image.ts";
import { type Random, shuffle } from "./random.ts";

/** `indices` followed by its first items again (cyclically) up to a multiple of `batch`. */
export function padToBatch(indices: ArrayLike<number>, batch: number): Int32Array {
  checkBatch(batch);
  const n = indices.length;
  if (n === 0) return new Int32Array(0);
  const out = new Int32Array(Math.ceil(n / batch) * batch);
  for (let i = 0; i < out.length; i++) out[i] = indices[i % n];
  return out;
}

/** Steps of one round: `repeat · ⌈n / batch⌉`. */
export function labeledSteps(n: number, batch: number, repeat: number): number {
  checkBatch(batch);
  return repeat * Math.ceil(n / batch);
}

/** The labeled batches of one round, drawn with replacement from the padded list. */
export function* labeledBatches(
  labeled: ArrayLike<number>,
  batch: number,
  repeat: number,
  rng: Random,
): Generator<Int32Array> {
  if (!Number.isInteger(repeat) || repeat < 1) throw new RangeError(`repeat ${repeat} < 1`);
  const padded = padToBatch(labeled, batch);
  const steps = labeledSteps(labeled.length, batch, repeat);
  for (let s = 0; s < steps; s++) {
    const out = new Int32Array(batch);
    for (let k = 0; k < batch; k++) out[k] = padded[rng.int(padded.length)];
    yield out;
  }
}

/** Endless full batches over the padded unlabeled pool, a fresh shuffle each pass. */
export class UnlabeledCycler {
  readonly #padded: Int32Array;
  #order: Int32Array = new Int32Array(0);
  #next = 0;
  /** Passes started so far. */
  epoch = 0;

  constructor(unlabeled: ArrayLike<number>, readonly batch: number, readonly rng: Random) {
    if (unlabeled.length === 0) throw new RangeError("the unlabeled pool is empty");
    this.#padded = padToBatch(unlabeled, batch);
  }

  next(): Int32Array {
    if (this.#next === this.#order.length) {
      this.#order = shuffle(this.rng, this.#padded.slice());
      this.#next = 0;
      this.epoch++;
    }
    return this.#order.slice(this.#next, this.#next += this.batch);
  }
}

/** The images at `indices` (fetched concurrently) and their labels. */
export async function loadBatch(
  set: ImageSet,
  indices: ArrayLike<number>,
): Promise<{ images: Image[]; labels: Int32Array }> {
  const idx = Array.from(indices);
  const images = await Promise.all(idx.map((i) => set.get(i)));
  return { images, labels: Int32Array.from(idx, (i) => set.labels[i]) };
}

function checkBatch(batch: number): void {
  if (!Number.isInteger(batch) || batch < 1) throw new RangeError(`batch size ${batch} < 1`);
}
