/**
 * The selection interface: `select(pool, labeled, budget, rng) -> indices` (docs/method.md §2).
 * Matrices are [rows, cols] float32: in host memory, already on the GPU, or streamed from a file.
 */
import type { Tensor } from "../../engine/tensor.ts";
import type { Rng } from "../../engine/rng.ts";

/** A row-major [rows, cols] float32 matrix in host memory (safetensors' HostTensor fits). */
export interface HostMatrix {
  data: Float32Array;
  shape: readonly number[];
}

/**
 * A row-major [rows, cols] float32 matrix read slice by slice (a pool file streamed to the GPU
 * by the farthest-first strategies, never held whole in host memory). A slice may be reused by
 * the next call: use it before asking for another.
 */
export interface RowStream {
  shape: readonly number[];
  rows(row0: number, n: number): Promise<Float32Array>;
}

export type Matrix = HostMatrix | Tensor | RowStream;

/** The unlabeled pool U: what a strategy reads of it. */
export interface Pool {
  /** p(x) = 0.5 softmax(z_ce) + 0.5 softmax(z_kd), [N, C]. */
  probs?: Matrix;
  /** Penultimate features h, [N, D]. */
  features?: Matrix;
}

/** The labeled set L. */
export interface Labeled {
  /** Student probabilities of the labeled rows, [M, C] (PCoreSet's starting centers). */
  probs?: Matrix;
  /** Their features, [M, D] (Core-Set's starting centers). */
  features?: Matrix;
  /** Their class labels, [M] (class-balanced counts; argmax of `probs` when absent). */
  labels?: Int32Array;
}

export const STRATEGY_NAMES = [
  "random",
  "entropy",
  "coreset",
  "badge",
  "badge-kmeanspp",
  "classbalanced",
  "pcoreset",
] as const;
export type StrategyName = typeof STRATEGY_NAMES[number];

export interface Strategy {
  readonly name: StrategyName;
  /** Which pool matrices it reads (for input checks and for the CLI). */
  readonly needs: { probs: boolean; features: boolean };
  /** Runs GPU kernels (needs a current engine); the rest work on host arrays. */
  readonly onGpu: boolean;
  /**
   * `budget` distinct pool row indices, in selection order. `opts` (GPU strategies): chunk size
   * and rows per thread of the farthest-first kernels.
   */
  select(
    pool: Pool,
    labeled: Labeled,
    budget: number,
    rng: Rng,
    opts?: { maxChunkBytes?: number; rowsPerThread?: number },
  ): Promise<Int32Array>;
}

/**
 * A probability row has entries >= 0 summing to 1 within this absolute tolerance (float32
 * softmax mixtures of up to ~10^5 classes are far inside it; logits or one-off rows are not).
 */
export const PROBABILITY_TOLERANCE = 1e-3;
