/**
 * Model input tensors (docs/method.md §1 "Input"), made on the CPU with al/data/transforms.ts:
 * train = RandomResizedCrop(size, scale 0.5–1, bilinear, antialias) + horizontal
 * flip (CLAP passes its own crop options), eval = Resize(size) + CenterCrop(size); then the
 * model's normalisation (ImageNet's by default, CLIP's for CLIP). Eval inputs are cached (they
 * never change) up to a byte budget. `trainViews` gives a teacher the student's very crops and
 * flips at its own size and normalisation (docs/method.md §1 "Teacher input").
 *
 * Measured here (2 cores): 0.23 ms per 28×28 → 32×32 train image, so a step's 128 images cost
 * ~30 ms beside a training step of about a second: a GPU kernel would not pay for itself.
 */
import {
  applyTrainView,
  drawTrainView,
  evalTransform,
  type FloatImage,
  normalize,
  type TrainTransformOptions,
} from "../data/transforms.ts";
import { IMAGENET_MEAN, IMAGENET_STD } from "../data/normalization.ts";
import type { ImageSet } from "../data/image.ts";
import type { Random } from "../data/random.ts";

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
  readonly #mean: readonly number[];
  readonly #std: readonly number[];
  readonly #cache = new Map<string, Float32Array>();
  readonly #cacheLimit: number;
  readonly #train: TrainTransformOptions;

  constructor(readonly sets: Record<Split, ImageSet>, opts: InputOptions) {
    this.size = opts.size;
    this.#mean = opts.mean ?? IMAGENET_MEAN;
    this.#std = opts.std ?? IMAGENET_STD;
    this.#train = { ...opts.train, size: opts.size };
    const perImage = 3 * opts.size * opts.size * 4;
    this.#cacheLimit = Math.floor((opts.cacheBytes ?? 2 ** 30) / perImage);
  }

  /** Floats per image: 3 · size². */
  get imageLength(): number {
    return 3 * this.size * this.size;
  }

  #pack(images: FloatImage[], input: ModelInput): Float32Array {
    const n = 3 * input.size * input.size;
    const out = new Float32Array(images.length * n);
    images.forEach((im, k) => out.set(normalize(im, input.mean, input.std).data, k * n));
    return out;
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
    const set = this.sets.train;
    const { interpolation } = this.#train;
    const models: ModelInput[] = [{ size: this.size, mean: this.#mean, std: this.#std }, ...others];
    const images: FloatImage[][] = models.map(() => []);
    for (let k = 0; k < indices.length; k++) {
      const img = await set.get(indices[k]);
      const view = drawTrainView(img.height, img.width, rng, this.#train);
      models.forEach((m, v) => images[v].push(applyTrainView(img, view, m.size, interpolation)));
    }
    return models.map((m, v) => this.#pack(images[v], m));
  }

  /** Eval inputs [n, 3, size, size]. */
  async evalBatch(split: Split, indices: ArrayLike<number>): Promise<Float32Array> {
    const out = new Float32Array(indices.length * this.imageLength);
    for (let k = 0; k < indices.length; k++) {
      const key = `${split}:${indices[k]}`;
      let x = this.#cache.get(key);
      if (!x) {
        const im = evalTransform(await this.sets[split].get(indices[k]), this.size);
        x = Float32Array.from(normalize(im, this.#mean, this.#std).data);
        if (this.#cache.size < this.#cacheLimit) this.#cache.set(key, x);
      }
      out.set(x, k * this.imageLength);
    }
    return out;
  }
}
