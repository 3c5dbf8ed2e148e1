/**
 * Farthest-first traversal on the GPU (the PCoreSet hotspot; Core-Set and BADGE too): one fused
 * `update` dispatch per pick — fold the previous partial argmaxes into the winner, take its row
 * as the newest center, update every row's running min-distance, write new partials — all
 * recorded in one go, the picks read back once at the end. O(N·C) per pick, not the reference's
 * O(N·(|L| + k)·C) recomputation against every center.
 */
import { engine } from "../../engine/context.ts";
import { grid1d } from "../../engine/ops/grid.ts";
import { empty, keep, type Tensor } from "../../engine/tensor.ts";
import {
  farthestGatherSpec,
  farthestInitSpec,
  farthestReduceSpec,
  farthestUpdateSpec,
  MAX_ROWS_PER_THREAD,
  METRICS,
} from "../../kernels/distance/farthest.ts";
import type { KernelSpec } from "../../kernels/spec.ts";
import type { Chunk, Space } from "./space.ts";

const WG = 256;
const TILE_C = 1024;
/** Labeled rows per `init` dispatch (bounds one dispatch's run time on big labeled sets). */
const LABELED_BATCH = 1024;
const NEG_INF = 0xff800000;
const POS_INF = 0x7f800000;

export interface TraversalOptions {
  /** vec4s of rows per thread in `update` (1..4); default: 4 on CPU adapters, else 1. */
  rowsPerThread?: number;
}

export interface TraversalResult {
  /** Pool rows in selection order. */
  picks: Int32Array;
  /**
   * In the space's metric (squared for Euclidean): scores[k] is pick k's distance to its
   * nearest center when picked; scores[K] the largest such distance left after selection
   * (-Infinity when no row is left).
   */
  scores: Float32Array;
}

/** `init` takes one vec4 of rows per thread. */
function initGroups(chunk: Chunk): number {
  return Math.ceil(chunk.stride / (4 * WG));
}

function defaultRowsPerThread(): number {
  return engine().gpu.adapter.isFallback ? MAX_ROWS_PER_THREAD : 1;
}

/**
 * The state of one traversal on the GPU: running min-distances, partial argmaxes (two halves
 * used in turn) and the picks. Record `init`, then `step` K times (`force` overrides a step's
 * winner), then `finish` reads the picks back. The caller disposes it.
 */
export class Traversal {
  readonly #space: Space;
  readonly #budget: number;
  readonly #rpt: number;
  readonly #mindist: Tensor;
  readonly #parts: Tensor;
  readonly #out: Tensor;
  readonly #center: Tensor | undefined;
  readonly #slots: number;
  readonly #updateGroups: number[];
  #partsIn = 0;
  #half = 0;
  #step = 0;

  constructor(space: Space, budget: number, opts: TraversalOptions = {}) {
    this.#space = space;
    this.#budget = budget;
    this.#rpt = Math.min(
      MAX_ROWS_PER_THREAD,
      Math.max(1, opts.rowsPerThread ?? defaultRowsPerThread()),
    );
    this.#updateGroups = space.chunks.map((c) => Math.ceil(c.stride / (4 * WG * this.#rpt)));
    const initSlots = space.chunks.reduce((s, c) => s + initGroups(c), 0);
    this.#slots = Math.max(1, initSlots, this.#updateGroups.reduce((a, b) => a + b, 0));
    const last = space.chunks.at(-1);
    this.#mindist = keep(empty([last ? last.row0 + last.stride : 4]));
    this.#parts = keep(empty([4 * this.#slots], "u32"));
    this.#out = keep(empty([2 * (budget + 1)], "u32"));
    this.#center = space.chunks.length > 1 ? keep(empty([space.width])) : undefined;
  }

  #uniforms(chunk: Chunk, extra: Record<string, number>) {
    return {
      n: chunk.n,
      stride: chunk.stride,
      row0: chunk.row0,
      w: this.#space.width,
      split: this.#space.split,
      m: 0,
      m_stride: 0,
      m_begin: 0,
      m_end: 0,
      first: 1,
      parts: this.#partsIn,
      part_in: this.#half * this.#slots,
      part_out: 0,
      groups: 0,
      groups_x: 1,
      step: this.#step,
      score_at: this.#budget + 1,
      neg_inf: NEG_INF,
      pos_inf: POS_INF,
      _p0: 0,
      ...extra,
    };
  }

  #dispatch(
    spec: KernelSpec,
    chunk: Chunk,
    groups: number,
    uniforms: Record<string, number>,
    buffers: { centers?: Tensor; centerOut?: Tensor } = {},
    gathered = false,
  ): void {
    const { workgroups, groupsX } = grid1d(groups, 1);
    engine().dispatch(spec, {
      buffers: {
        pool: chunk.data.buffer,
        centers: (buffers.centers ?? chunk.data).buffer,
        mindist: this.#mindist.buffer,
        parts: this.#parts.buffer,
        out: this.#out.buffer,
        center_out: buffers.centerOut?.buffer ?? engine().dummy,
      },
      uniforms: this.#uniforms(chunk, { groups, groups_x: groupsX, ...uniforms }),
      overrides: {
        METRIC: METRICS[this.#space.metric],
        WG,
        RPT: this.#rpt,
        TILE_C,
        GATHERED: gathered ? 1 : 0,
      },
      workgroups,
      label: spec.name,
    });
  }

  /** Running min-distances to `centers` (packed like the pool, one chunk), or +inf without. */
  init(centers?: Space): void {
    if (centers && (centers.chunks.length !== 1 || centers.width !== this.#space.width)) {
      throw new Error("Traversal.init: centers must be one chunk as wide as the pool");
    }
    const m = centers?.rows ?? 0;
    let slot = 0;
    for (const chunk of this.#space.chunks) {
      const groups = initGroups(chunk);
      for (let b = 0; b === 0 || b < m; b += LABELED_BATCH) {
        this.#dispatch(farthestInitSpec, chunk, groups, {
          m,
          m_stride: centers?.chunks[0].stride ?? 0,
          m_begin: b,
          m_end: Math.min(m, b + LABELED_BATCH),
          first: b === 0 ? 1 : 0,
          part_out: this.#half * this.#slots + slot,
        }, { centers: centers?.chunks[0].data });
      }
      slot += groups;
    }
    this.#partsIn = slot;
  }

  /** Makes `row` the winner the next step takes, whatever the partials say. */
  force(row: number): void {
    engine().stream.write(
      this.#parts.buffer,
      8 * this.#half * this.#slots,
      Uint32Array.of(POS_INF, row),
    );
    this.#partsIn = 1;
  }

  /** Records one pick. */
  step(): void {
    if (this.#step >= this.#budget) throw new Error("Traversal.step: budget exhausted");
    const chunks = this.#space.chunks;
    if (this.#center) {
      for (const chunk of chunks) {
        this.#dispatch(farthestGatherSpec, chunk, 1, { groups: 1 }, { centerOut: this.#center });
      }
    }
    const out = (1 - this.#half) * this.#slots;
    let slot = 0;
    chunks.forEach((chunk, i) => {
      const groups = this.#updateGroups[i];
      this.#dispatch(
        farthestUpdateSpec,
        chunk,
        groups,
        { part_out: out + slot },
        { centers: this.#center },
        this.#center !== undefined,
      );
      slot += groups;
    });
    this.#partsIn = slot;
    this.#half = 1 - this.#half;
    this.#step++;
  }

  /** The running min-distances (selected rows: -Infinity), read back now. */
  async minDistances(): Promise<Float32Array> {
    return (await this.#mindist.read()).subarray(0, this.#space.rows) as Float32Array;
  }

  /** Records the last fold and reads the picks and their scores back (one readback). */
  async finish(): Promise<TraversalResult> {
    const k = this.#budget;
    if (this.#step !== k) throw new Error(`Traversal.finish: ${this.#step} of ${k} picks recorded`);
    this.#dispatch(farthestReduceSpec, this.#space.chunks[0], 1, { groups: 1 });
    const raw = await engine().read(this.#out.buffer, 8 * (k + 1));
    return {
      picks: new Int32Array(raw, 0, k),
      scores: new Float32Array(raw, 4 * (k + 1), k + 1),
    };
  }

  dispose(): void {
    for (const t of [this.#mindist, this.#parts, this.#out, this.#center]) t?.dispose();
  }
}

/**
 * K farthest-first picks over `space`, starting from `centers` (none: every row at +inf, so
 * the first pick is row 0 unless `first` forces another).
 */
export async function farthestFirst(
  space: Space,
  centers: Space | undefined,
  budget: number,
  opts: TraversalOptions & { first?: number } = {},
): Promise<TraversalResult> {
  const t = new Traversal(space, budget, opts);
  try {
    t.init(centers);
    if (opts.first !== undefined && budget > 0) t.force(opts.first);
    for (let k = 0; k < budget; k++) t.step();
    return await t.finish();
  } finally {
    t.dispose();
  }
}

/** Distances in the metric's own units: Euclidean from squared, others as they are. */
export function naturalDistance(space: Space, score: number): number {
  return space.metric === "sqeuclidean" || space.metric === "badge-sqeuclidean"
    ? Math.sqrt(score)
    : score;
}
