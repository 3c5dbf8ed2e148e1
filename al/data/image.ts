/**
 * The shapes every data source produces: an `Image` (HWC RGB uint8), an `ImageSet` (one split:
 * labels known up front, pixels fetched by index, lazily for big folders), and a `Dataset`
 * (class names, CLIP prompt template(s), train/val/test).
 */

/** One decoded image: `height × width × 3` bytes, row-major HWC, RGB. */
export interface Image {
  readonly width: number;
  readonly height: number;
  readonly channels: 3;
  readonly data: Uint8Array;
}

/** One split. `get` may be synchronous (in-memory sets) or not (files, cache); await it. */
export interface ImageSet {
  readonly length: number;
  /** Class index of each image, known without decoding. */
  readonly labels: Int32Array;
  get(i: number): Promise<Image> | Image;
  /** Where image `i` comes from (a file path, or `file#record`), for messages and cache keys. */
  source(i: number): string;
}

export interface Splits {
  readonly train: ImageSet;
  readonly val: ImageSet;
  readonly test: ImageSet;
}

export interface Dataset {
  readonly name: string;
  readonly classes: readonly string[];
  /** The dataset's CLIP prompt template, `{}` standing for the class name. */
  readonly template?: string;
  /** A prompt ensemble (ImageNet), used instead of `template` when present. */
  readonly templates?: readonly string[];
  readonly splits: Splits;
}

/** The CLIP prompts to build a zero-shot head from: the ensemble, the template, or CLIP's default. */
export function promptTemplates(ds: Dataset): readonly string[] {
  return ds.templates ?? [ds.template ?? "a photo of a {}."];
}

/** Expands `width*height` grey bytes to RGB. */
export function greyToRgb(grey: Uint8Array, width: number, height: number): Image {
  const n = width * height;
  const data = new Uint8Array(n * 3);
  for (let p = 0; p < n; p++) {
    const v = grey[p];
    data[3 * p] = v;
    data[3 * p + 1] = v;
    data[3 * p + 2] = v;
  }
  return { width, height, channels: 3, data };
}

/** A split with no images (e.g. IDX's val). */
export function emptySet(): ImageSet {
  return {
    length: 0,
    labels: new Int32Array(0),
    get(i: number): Image {
      throw new RangeError(`image ${i} of an empty split`);
    },
    source(i: number): string {
      throw new RangeError(`image ${i} of an empty split`);
    },
  };
}

/** The images of `set` at `indices`, in that order (a view: no pixels are copied). */
export function subset(set: ImageSet, indices: ArrayLike<number>): ImageSet {
  const picked = Int32Array.from(indices);
  for (const i of picked) {
    if (!(i >= 0 && i < set.length)) {
      throw new RangeError(`index ${i} outside 0..${set.length - 1}`);
    }
  }
  return {
    length: picked.length,
    labels: picked.map((i) => set.labels[i]),
    get: (i: number) => set.get(at(picked, i)),
    source: (i: number) => set.source(at(picked, i)),
  };
}

function at(picked: Int32Array, i: number): number {
  if (!(i >= 0 && i < picked.length)) {
    throw new RangeError(`index ${i} outside 0..${picked.length - 1}`);
  }
  return picked[i];
}
