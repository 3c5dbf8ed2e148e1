/**
 * The decoded-image cache: every file-backed split of a dataset decoded once, shrunk so that its
 * shorter side is `size` (bilinear with antialias, as `Resize(size)`; smaller images are kept as
 * they are, never enlarged), and stored as raw HWC RGB bytes in ONE file per dataset × size,
 * `<name>-<size>-<key>.u8`, beside a JSON index `….json` (per split: which source images were
 * kept, and each image's width and height; offsets follow from them).
 *
 * The key is a SHA-256 over the cache format version, the size, and every source file's path,
 * byte size, modification time and label: touching, replacing or relabelling any image makes a
 * new cache (contents are not hashed: that would cost a full read of the dataset per open).
 * Both files are written under temporary names and renamed, the index last, so a reader never
 * sees a half-written cache. Location: `$AKD_CACHE`, else `.cache/activekd/`.
 * In-memory splits (IDX) are passed through untouched.
 */
import { join } from "node:path";
import { InputError } from "../../engine/errors.ts";
import { cacheDir } from "../env.ts";
import { discardTemp, statIfExists, writeFileAtomic } from "../../engine/files.ts";
import { FileImageSet } from "./files.ts";
import type { Dataset, Image, ImageSet } from "./image.ts";
import { resizeImage, shorterSideSize } from "./transforms.ts";
import { distinctSets, type ScanOptions, scanSet } from "./verify.ts";

const FORMAT = "activekd-decoded-images";
const VERSION = 1;

export interface CacheOptions extends ScanOptions {
  /** Shorter side of the stored images, in pixels. */
  size: number;
  /** Folder of the cache files; default `$AKD_CACHE`, else `.cache/activekd`. */
  dir?: string;
}

export interface CacheInfo {
  /** The raw file. */
  file: string;
  /** True when the cache already existed (nothing was decoded). */
  hit: boolean;
  /** Source images left out because they could not be decoded (`skipBad`). */
  skipped: number;
}

interface IndexFile {
  format: string;
  version: number;
  key: string;
  size: number;
  bytes: number;
  /** One entry per distinct file-backed split, in train/val/test order. */
  sets: { count: number; kept: number[] | null; widths: number[]; heights: number[] }[];
}

/** The dataset with its file-backed splits served from the cache (built on first use). */
export async function cacheDataset(
  ds: Dataset,
  opts: CacheOptions,
): Promise<{ dataset: Dataset; cache?: CacheInfo }> {
  if (!Number.isInteger(opts.size) || opts.size < 1) {
    throw new InputError(`cache size ${opts.size} must be a positive integer`);
  }
  const sets = distinctSets(ds).filter((s): s is FileImageSet => s instanceof FileImageSet);
  if (sets.length === 0) return { dataset: ds };
  const dir = opts.dir ?? cacheDir();
  const key = await cacheKey(sets, opts.size);
  const stem = join(dir, `${slug(ds.name)}-${opts.size}-${key.slice(0, 16)}`);
  const file = `${stem}.u8`;
  let index = await readIndex(`${stem}.json`, file, key, opts.size, sets.length);
  const hit = index !== undefined;
  if (!index) index = await build(sets, opts, dir, file, `${stem}.json`, key);
  const cached = new Map<ImageSet, ImageSet>();
  let offset = 0;
  let skipped = 0;
  sets.forEach((set, s) => {
    const entry = index!.sets[s];
    const kept = entry.kept ?? [...set.paths.keys()];
    skipped += set.length - kept.length;
    const offsets = new Float64Array(kept.length);
    for (let i = 0; i < kept.length; i++) {
      offsets[i] = offset;
      offset += entry.widths[i] * entry.heights[i] * 3;
    }
    cached.set(
      set,
      new CachedImageSet(file, offsets, entry.widths, entry.heights, kept, set),
    );
  });
  const pick = (s: ImageSet) => cached.get(s) ?? s;
  const { train, val, test } = ds.splits;
  return {
    dataset: { ...ds, splits: { train: pick(train), val: pick(val), test: pick(test) } },
    cache: { file, hit, skipped },
  };
}

/** A split served from the cache file, one positional read per image. */
export class CachedImageSet implements ImageSet {
  readonly labels: Int32Array;

  constructor(
    readonly file: string,
    readonly offsets: Float64Array,
    readonly widths: readonly number[],
    readonly heights: readonly number[],
    /** Index in the source split of each image kept. */
    readonly kept: readonly number[],
    readonly origin: FileImageSet,
  ) {
    this.labels = Int32Array.from(kept, (i) => origin.labels[i]);
  }

  get length(): number {
    return this.kept.length;
  }

  async get(i: number): Promise<Image> {
    const source = this.source(i);
    const width = this.widths[i];
    const height = this.heights[i];
    const data = new Uint8Array(width * height * 3);
    using f = await Deno.open(this.file);
    await f.seek(this.offsets[i], Deno.SeekMode.Start);
    for (let got = 0; got < data.length;) {
      const n = await f.read(data.subarray(got));
      if (n === null) throw new Error(`${this.file}: cache file ends inside ${source}`);
      got += n;
    }
    return { width, height, channels: 3, data };
  }

  source(i: number): string {
    if (!(i >= 0 && i < this.kept.length)) {
      throw new RangeError(`index ${i} outside 0..${this.kept.length - 1}`);
    }
    return this.origin.source(this.kept[i]);
  }
}

async function cacheKey(sets: FileImageSet[], size: number): Promise<string> {
  const lines = [`${FORMAT} v${VERSION} size ${size}`];
  for (const set of sets) {
    lines.push(`set ${set.length}`);
    const stats = await mapLimit(set.paths, 64, async (path) => {
      const st = await statIfExists(path);
      return st ? `${st.size}\t${st.mtime?.getTime() ?? 0}` : "missing";
    });
    set.paths.forEach((p, i) => lines.push(`${p}\t${stats[i]}\t${set.labels[i]}`));
  }
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(lines.join("\n")));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function readIndex(
  indexFile: string,
  file: string,
  key: string,
  size: number,
  setCount: number,
): Promise<IndexFile | undefined> {
  let index: IndexFile;
  try {
    index = JSON.parse(await Deno.readTextFile(indexFile));
  } catch (e) {
    // Absent, or cut short / garbled: rebuild. A permission or I/O error is not a miss.
    if (e instanceof Deno.errors.NotFound || e instanceof SyntaxError) return undefined;
    throw e;
  }
  if (index?.format !== FORMAT || index.version !== VERSION) return undefined;
  if (index.key !== key || index.size !== size || index.sets?.length !== setCount) {
    return undefined;
  }
  if ((await statIfExists(file))?.size !== index.bytes) return undefined;
  return index;
}

async function build(
  sets: FileImageSet[],
  opts: CacheOptions,
  dir: string,
  file: string,
  indexFile: string,
  key: string,
): Promise<IndexFile> {
  await Deno.mkdir(dir, { recursive: true });
  const tmp = `${file}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  const counter = { done: 0, total: sets.reduce((n, s) => n + s.length, 0) };
  const index: IndexFile = {
    format: FORMAT,
    version: VERSION,
    key,
    size: opts.size,
    bytes: 0,
    sets: [],
  };
  try {
    {
      using out = await Deno.open(tmp, { write: true, create: true, truncate: true });
      for (const set of sets) {
        const widths: number[] = [];
        const heights: number[] = [];
        const kept = await scanSet(set, opts, counter, async (_, image) => {
          const small = shrink(image, opts.size);
          await writeAll(out, small.data);
          widths.push(small.width);
          heights.push(small.height);
          index.bytes += small.data.length;
        });
        index.sets.push({
          count: set.length,
          kept: kept.length === set.length ? null : kept,
          widths,
          heights,
        });
      }
    }
    await Deno.rename(tmp, file);
  } catch (e) {
    await discardTemp(tmp, file, e);
  }
  // The index last: a reader never finds an index for a half-written file.
  await writeFileAtomic(indexFile, JSON.stringify(index));
  return index;
}

/** Shorter side down to `size` (never up), bilinear with antialias, as `Resize(size)`. */
export function shrink(image: Image, size: number): Image {
  if (Math.min(image.width, image.height) <= size) return image;
  const [h, w] = shorterSideSize(image.height, image.width, size);
  return resizeImage(image, h, w, { interpolation: "bilinear", antialias: true });
}

async function writeAll(f: Deno.FsFile, data: Uint8Array): Promise<void> {
  for (let done = 0; done < data.length;) done += await f.write(data.subarray(done));
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (t: T) => Promise<R>) {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

function slug(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, "_").slice(0, 60);
}
