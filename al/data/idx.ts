/**
 * MNIST-family IDX files (`train-images-idx3-ubyte[.gz]`, `train-labels-idx1-ubyte[.gz]`,
 * `t10k-…`), gzip or raw. The images stay in the decompressed file buffer; `get(i)` expands one
 * greyscale record to RGB.
 *
 * IDX has no validation split: `val` is EMPTY, so `train` keeps all of the file's images (60000
 * for MNIST), as the papers count them. Class names are the label values ("0", "1", …) unless
 * the caller names them.
 */
import { gunzipSync } from "node:zlib";
import { join } from "node:path";
import { InputError } from "../../engine/errors.ts";
import { type Dataset, emptySet, greyToRgb, type Image, type ImageSet } from "./image.ts";

const UBYTE = 0x08;

/** The dimensions and payload of one IDX file of unsigned bytes. */
export interface IdxArray {
  readonly dims: readonly number[];
  readonly data: Uint8Array;
}

/**
 * Parses IDX bytes (already gunzipped): magic `00 00 08 ndim`, `ndim` big-endian u32 sizes, then
 * exactly prod(sizes) bytes. Anything else is an InputError naming `file`.
 */
export function parseIdx(bytes: Uint8Array, file: string, ndim: number): IdxArray {
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0 || bytes[2] !== UBYTE) {
    throw new InputError(`${file}: not an IDX file of unsigned bytes (bad magic number)`);
  }
  if (bytes[3] !== ndim) {
    throw new InputError(`${file}: IDX file has ${bytes[3]} dimensions, expected ${ndim}`);
  }
  const header = 4 + 4 * ndim;
  if (bytes.length < header) throw new InputError(`${file}: truncated IDX header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let d = 0; d < ndim; d++) dims.push(view.getUint32(4 + 4 * d, false));
  const size = dims.reduce((a, b) => a * b, 1);
  if (bytes.length - header < size) {
    throw new InputError(
      `${file}: truncated: ${dims.join("×")} needs ${size} bytes, found ${bytes.length - header}`,
    );
  }
  if (bytes.length - header > size) {
    throw new InputError(`${file}: ${bytes.length - header - size} bytes after the IDX data`);
  }
  return { dims, data: bytes.subarray(header) };
}

/** Reads `base.gz` or `base` (gzip detected by content), parsing it as an `ndim` IDX array. */
export async function readIdx(dir: string, base: string, ndim: number): Promise<IdxArray> {
  for (const name of [`${base}.gz`, base]) {
    const file = join(dir, name);
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(file);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) continue;
      throw new InputError(`${file}: cannot read (${(e as Error).message})`);
    }
    if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
      try {
        bytes = new Uint8Array(gunzipSync(bytes));
      } catch (e) {
        throw new InputError(`${file}: corrupt gzip (${(e as Error).message})`);
      }
    }
    return parseIdx(bytes, file, ndim);
  }
  throw new InputError(`${join(dir, base)}[.gz]: file not found`);
}

/** One split of greyscale IDX images, zero-copy over the file's bytes. */
export class IdxImageSet implements ImageSet {
  readonly length: number;
  readonly height: number;
  readonly width: number;

  constructor(
    readonly file: string,
    /** `length × height × width` grey bytes. */
    readonly pixels: Uint8Array,
    dims: readonly number[],
    readonly labels: Int32Array,
  ) {
    [this.length, this.height, this.width] = dims;
  }

  /** Image `i`'s grey bytes (a view). */
  grey(i: number): Uint8Array {
    if (!(i >= 0 && i < this.length)) {
      throw new RangeError(`index ${i} outside 0..${this.length - 1}`);
    }
    const n = this.height * this.width;
    return this.pixels.subarray(i * n, (i + 1) * n);
  }

  get(i: number): Image {
    return greyToRgb(this.grey(i), this.width, this.height);
  }

  source(i: number): string {
    return `${this.file}#${i}`;
  }
}

/** Reads `<prefix>-images-idx3-ubyte[.gz]` with its labels file as one split. */
export async function readIdxSplit(dir: string, prefix: string): Promise<IdxImageSet> {
  const images = await readIdx(dir, `${prefix}-images-idx3-ubyte`, 3);
  const labels = await readIdx(dir, `${prefix}-labels-idx1-ubyte`, 1);
  const imagesFile = join(dir, `${prefix}-images-idx3-ubyte`);
  if (labels.dims[0] !== images.dims[0]) {
    throw new InputError(
      `${join(dir, `${prefix}-labels-idx1-ubyte`)}: ${labels.dims[0]} labels for ` +
        `${images.dims[0]} images`,
    );
  }
  return new IdxImageSet(imagesFile, images.data, images.dims, Int32Array.from(labels.data));
}

export interface IdxOptions {
  name?: string;
  /** Class names by label value; by default the label values themselves. */
  classes?: readonly string[];
  template?: string;
}

/** An IDX dataset: `train-*` as train, `t10k-*` as test, val empty (see the module note). */
export async function openIdx(dir: string, opts: IdxOptions = {}): Promise<Dataset> {
  const train = await readIdxSplit(dir, "train");
  const test = await readIdxSplit(dir, "t10k");
  let top = -1;
  for (const set of [train, test]) for (const y of set.labels) top = Math.max(top, y);
  const classes = opts.classes ?? Array.from({ length: top + 1 }, (_, c) => String(c));
  if (top >= classes.length) {
    throw new InputError(`${dir}: label ${top} but only ${classes.length} class names`);
  }
  return {
    name: opts.name ?? `idx:${dir}`,
    classes,
    template: opts.template,
    splits: { train, val: emptySet(), test },
  };
}
