/**
 * The labeled / unlabeled split of the train set, and labeled-index files.
 *
 * `fewShotSplit` is Dassl's `generate_fewshot_dataset` on indices: for each class in label
 * order, a random sample of `shots` of its images without replacement (a class with fewer
 * images gives them all: indices cannot repeat); `train_x` lists them class by class, in draw
 * order. `train_u` is the rest of the train set, in ascending order.
 */
import { InputError } from "../../engine/errors.ts";
import { writeFileAtomic } from "../../engine/files.ts";
import type { Random } from "./random.ts";

export interface LabeledSplit {
  /** `train_x`: indices into the train split. */
  labeled: Int32Array;
  /** `train_u`: every other train index, ascending. */
  unlabeled: Int32Array;
}

export function fewShotSplit(labels: Int32Array, shots: number, rng: Random): LabeledSplit {
  if (!Number.isInteger(shots) || shots < 0) {
    throw new InputError(`shots = ${shots} must be a non-negative integer`);
  }
  const byClass = new Map<number, number[]>();
  labels.forEach((y, i) => {
    const list = byClass.get(y);
    if (list) list.push(i);
    else byClass.set(y, [i]);
  });
  const labeled: number[] = [];
  for (const y of [...byClass.keys()].sort((a, b) => a - b)) {
    const pool = byClass.get(y)!;
    const k = Math.min(shots, pool.length);
    for (let j = 0; j < k; j++) {
      const r = j + rng.int(pool.length - j);
      [pool[j], pool[r]] = [pool[r], pool[j]];
      labeled.push(pool[j]);
    }
  }
  return { labeled: Int32Array.from(labeled), unlabeled: complement(labels.length, labeled) };
}

/** 0..n-1 without `taken`, ascending. */
export function complement(n: number, taken: ArrayLike<number>): Int32Array {
  const used = new Uint8Array(n);
  for (let i = 0; i < taken.length; i++) used[taken[i]] = 1;
  const rest = new Int32Array(n - used.reduce((a, b) => a + b, 0));
  let k = 0;
  for (let i = 0; i < n; i++) if (!used[i]) rest[k++] = i;
  return rest;
}

/**
 * Reads a labeled-index file: a JSON list of distinct integers in [0, n). Anything else is an
 * InputError naming the file.
 */
export async function readLabeledIndices(file: string, n: number): Promise<Int32Array> {
  let json: unknown;
  try {
    json = JSON.parse(await Deno.readTextFile(file));
  } catch (e) {
    throw new InputError(`${file}: cannot read labeled indices (${(e as Error).message})`);
  }
  if (!Array.isArray(json)) throw new InputError(`${file}: expected a JSON list of indices`);
  const seen = new Set<number>();
  json.forEach((v, k) => {
    if (!Number.isInteger(v) || v < 0 || v >= n) {
      throw new InputError(
        `${file}: entry ${k} (${JSON.stringify(v)}) is not an index in 0..${n - 1}`,
      );
    }
    if (seen.has(v)) throw new InputError(`${file}: index ${v} appears twice`);
    seen.add(v);
  });
  return Int32Array.from(json);
}

/** Writes indices as a JSON list, atomically (engine/files.ts). */
export async function writeLabeledIndices(file: string, indices: ArrayLike<number>): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(Array.from(indices)) + "\n");
}
