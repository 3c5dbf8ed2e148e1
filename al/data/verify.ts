/**
 * Decoding every image of a dataset once: to check it (`akd data`) or to fill the cache. A bad
 * image (missing, unreadable, corrupt, not JPEG/PNG) stops with its InputError, or, with
 * `skipBad`, is left out of its split with a warning, and counted.
 */
import { InputError } from "../../engine/errors.ts";
import { type Dataset, type Image, type ImageSet, subset } from "./image.ts";

export interface ScanOptions {
  /** Leave bad images out (with a warning each) instead of failing on the first. */
  skipBad?: boolean;
  onWarning?: (message: string) => void;
  /** Called after each image with the running count over all splits scanned. */
  onProgress?: (done: number, total: number) => void;
}

/** Scanning state shared over the splits of one dataset, for progress over the whole. */
export interface ScanCounter {
  done: number;
  total: number;
}

/**
 * Decodes every image of `set`, in order, handing each good one to `visit`; returns the indices
 * kept. Files are read a few at a time ahead of the (CPU-bound) decoding.
 */
export async function scanSet(
  set: ImageSet,
  opts: ScanOptions,
  counter: ScanCounter,
  visit: (i: number, image: Image) => Promise<void> | void,
): Promise<number[]> {
  const kept: number[] = [];
  const ahead = 8;
  const pending: Promise<Image | InputError>[] = [];
  const fetch = (i: number) =>
    Promise.resolve()
      .then(() => set.get(i))
      .catch((e) => {
        if (e instanceof InputError) return e;
        throw e;
      });
  for (let i = 0; i < Math.min(ahead, set.length); i++) pending.push(fetch(i));
  for (let i = 0; i < set.length; i++) {
    const got = await pending.shift()!;
    if (i + ahead < set.length) pending.push(fetch(i + ahead));
    if (got instanceof InputError) {
      if (!opts.skipBad) {
        await Promise.allSettled(pending);
        throw got;
      }
      opts.onWarning?.(`skipped ${got.message}`);
    } else {
      await visit(i, got);
      kept.push(i);
    }
    opts.onProgress?.(++counter.done, counter.total);
  }
  return kept;
}

/** The distinct sets of a dataset, in train/val/test order (ImageNet's val IS its test). */
export function distinctSets(ds: Dataset): ImageSet[] {
  const { train, val, test } = ds.splits;
  return [...new Set([train, val, test])];
}

export interface VerifyResult {
  dataset: Dataset;
  /** Images left out (only with `skipBad`). */
  skipped: number;
}

/** Decodes every image; returns the dataset without its bad images (or throws on the first). */
export async function verifyDataset(ds: Dataset, opts: ScanOptions = {}): Promise<VerifyResult> {
  const sets = distinctSets(ds);
  const counter = { done: 0, total: sets.reduce((n, s) => n + s.length, 0) };
  const replaced = new Map<ImageSet, ImageSet>();
  let skipped = 0;
  for (const set of sets) {
    const kept = await scanSet(set, opts, counter, () => {});
    skipped += set.length - kept.length;
    replaced.set(set, kept.length === set.length ? set : subset(set, kept));
  }
  const { train, val, test } = ds.splits;
  const splits = {
    train: replaced.get(train)!,
    val: replaced.get(val)!,
    test: replaced.get(test)!,
  };
  return { dataset: { ...ds, splits }, skipped };
}
