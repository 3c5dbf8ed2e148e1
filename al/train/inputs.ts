/**
 * Model input tensors (docs/method.md §1 "Input"), made on the CPU by al/data/resample.ts (the
 * float32 twins of al/data/transforms.ts's reference transforms): train = RandomResizedCrop(size,
 * scale 0.5–1, bilinear, antialias) + horizontal flip (CLAP passes its own crop options), eval =
 * Resize(size) + CenterCrop(size); then the model's normalisation (ImageNet's by default, CLIP's
 * for CLIP). Eval inputs are cached (they never change) up to a byte budget. `trainViews` gives a
 * teacher the student's very crops and flips at its own size and normalisation (docs/method.md §1
 * "Teacher input").
 *
 * Images are fetched `PREFETCH` ahead: sharp decodes on libuv's thread pool, so the next images
 * decode on the other core while this one is transformed. Crops and flips are still drawn in
 * index order, so a seed fixes the pixels.
 */
import { drawTrainView, type TrainTransformOptions } from "../data/transforms.ts";
import { evalTransformInto, type Normalization, trainViewInto } from "../data/resample.ts";
import { IMAGENET_MEAN, IMAGENET_STD } from "../data/normalization.ts";
import type { Image, ImageSet } from "../data/image.ts";
import type { Random } from "../data/random.ts";

/** Images being fetched at once beyond the one being transformed. */
const PREFETCH = 4;

export type Split = "train" | "test";

/** What a model takes: square inputs of `size`, normalised with `mean` and `std` per channel. */
export interface ModelInput {
  size: number;
  mean: readonly number[];
  std: readonly number[];
}

export interface InputOptions {
  size: number;
  mean?: readonly number[];
  std?: readonly number[];
  /** Crop scale/ratio/interpolation of `trainBatch` (the student's by default). */
  train?: Omit<TrainTransformOptions, "size">;
  /** Bytes of eval inputs kept in memory (default 1 GiB). */
  cacheBytes?: number;
}

export class ImageInputs {
  readonly size: number;
  readonly #norm: Normalization;
  readonly #cache = new Map<string, Float32Array>();
  readonly #cacheLimit: number;
  readonly #train: TrainTransformOptions;

  constructor(readonly sets: Record<Split, ImageSet>, opts: InputOptions) {
    this.size = opts.size;
    this.#norm = { mean: opts.mean ?? IMAGENET_MEAN, std: opts.std ?? IMAGENET_STD };
    this.#train = { ...opts.train, size: opts.size };
    const perImage = 3 * opts.size * opts.size * 4;
    this.#cacheLimit = Math.floor((opts.cacheBytes ?? 2 ** 30) / perImage);
  }

  /** Floats per image: 3 · size². */
  get imageLength(): number {
    return 3 * this.size * this.size;
  }

  /** Augmented inputs [n, 3, size, size], drawing crops and flips from `rng` in index order. */
  async trainBatch(indices: ArrayLike<number>, rng: Random): Promise<Float32Array> {
    return (await this.trainViews(indices, rng, []))[0];
  }

  /**
   * This model's augmented batch (as `trainBatch`, the same draws) and, from the same crop box and
   * flip of each image, the batch each of `others` sees: resized to its size (with this model's
   * interpolation) and normalised with its own mean and std. Returns [this model's, ...others'].
   */
  async trainViews(
    indices: ArrayLike<number>,
    rng: Random,
    others: readonly ModelInput[],
  ): Promise<Float32Array[]> {
    const models: ModelInput[] = [{ size: this.size, ...this.#norm }, ...others];
    const lengths = models.map((m) => 3 * m.size * m.size);
    const outs = lengths.map((n) => new Float32Array(indices.length * n));
    const { interpolation } = this.#train;
    await forEachImage(this.sets.train, indices, (img, k) => {
      const view = drawTrainView(img.height, img.width, rng, this.#train);
      models.forEach((m, v) => {
        trainViewInto(img, view, m.size, interpolation, m, outs[v], k * lengths[v]);
      });
    });
    return outs;
  }

  /** Eval inputs [n, 3, size, size]. */
  async evalBatch(split: Split, indices: ArrayLike<number>): Promise<Float32Array> {
    const out = new Float32Array(indices.length * this.imageLength);
    const key = (k: number) => `${split}:${indices[k]}`;
    const missing: number[] = [];
    for (let k = 0; k < indices.length; k++) {
      const x = this.#cache.get(key(k));
      if (x) out.set(x, k * this.imageLength);
      else missing.push(k);
    }
    const wanted = missing.map((k) => indices[k]);
    await forEachImage(this.sets[split], wanted, (img, j) => {
      const k = missing[j];
      evalTransformInto(img, this.size, this.#norm, out, k * this.imageLength);
      if (this.#cache.size < this.#cacheLimit) {
        this.#cache.set(key(k), out.slice(k * this.imageLength, (k + 1) * this.imageLength));
      }
    });
    return out;
  }
}

/**
 * Calls `use(image, k)` for each index in order, with up to `PREFETCH` later images being
 * fetched meanwhile. An error is thrown at the image it belongs to; fetches already started
 * after it are left to finish, their results unused.
 */
async function forEachImage(
  set: ImageSet,
  indices: ArrayLike<number>,
  use: (img: Image, k: number) => void,
): Promise<void> {
  const pending = new Map<number, Promise<Image>>();
  const start = (k: number) => {
    // async: a synchronous throw of `get` becomes this image's rejection, met in its turn.
    const p = (async () => await set.get(indices[k]))();
    // Marks it handled until awaited below: its error must not end the process before its turn.
    p.catch(() => {});
    pending.set(k, p);
  };
  for (let k = 0; k < Math.min(PREFETCH, indices.length); k++) start(k);
  for (let k = 0; k < indices.length; k++) {
    if (k + PREFETCH < indices.length) start(k + PREFETCH);
    const img = await pending.get(k)!;
    pending.delete(k);
    use(img, k);
  }
}
