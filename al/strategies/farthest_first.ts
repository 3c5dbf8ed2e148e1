/**
 * Farthest-first traversal on the GPU (the PCoreSet hotspot; Core-Set and BADGE too). Per pick,
 * two dispatches recorded back to back with no readback: `centers_step` folds the previous
 * partial argmaxes into the winner and makes it a center, `update` brings every row's running
 * min-distance up to date (O(N·C) at most: rows that provably keep theirs are skipped, and a
 * Euclidean sum stops once it reaches the row's minimum) and writes new partials. The picks are
 * read back once at the end — not the reference's recomputation against every center,
 * O(N·(|L| + k)·C) per pick.
 */
import { engine } from "../../engine/context.ts";
import { grid1d } from "../../engine/ops/grid.ts";
import { empty, keep, type Tensor, tensor } from "../../engine/tensor.ts";
import {
  farthestCentersSpec,
  farthestGatherSpec,
  farthestInitSpec,
  farthestReduceSpec,
  farthestUpdateSpec,
  METRICS,
  pruneMargins,
} from "../../kernels/distance/farthest.ts";
import type { KernelSpec } from "../../kernels/spec.ts";
import type { Chunk, Space } from "./space.ts";

/** Labeled rows per `init` dispatch (bounds one dispatch's run time on big labeled sets). */
const LABELED_BATCH = 1024;
/** Rows per thread in `init` (IR in farthest.wgsl). */
const INIT_ROWS = 4;
const NEG_INF = 0xff800000;
const POS_INF = 0x7f800000;

export interface TraversalOptions {
  /**
   * Threads per workgroup and rows per thread in `update`. Default: 64 x 16 on CPU adapters,
   * where every barrier switches each thread of a workgroup, so fewer, fuller threads win;
   * 256 x 1 on GPUs.
   */
  workgroupSize?: number;
  rowsPerThread?: number;
  /** Skip rows the triangle inequality proves unchanged (default true; never for k-means++). */
  prune?: boolean;
  /** Count what the picks' updates read (`TraversalResult.pruning`); off by default. */
  stats?: boolean;
}

/** What the picks' updates read, summed over the picks. */
export interface PruningStats {
  /** Rows whose running minimum was brought up to date (unselected rows, per pick). */
  visited: number;
  /** Of those, rows whose distance to the new center was computed (not pruned). */
  computed: number;
  /** vec4s of pool rows read for them (a sum may stop early), and per row in full. */
  quads: number;
  quadsPerRow: number;
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
  /** With `stats`. */
  pruning?: PruningStats;
}

function launchShape(opts: TraversalOptions): { wg: number; rpt: number } {
  const cpu = engine().gpu.adapter.isFallback;
  const wg = opts.workgroupSize ?? (cpu ? 64 : 256);
  const rpt = opts.rowsPerThread ?? (cpu ? 16 : 1);
  if (
    ![16, 32, 64, 128, 256].includes(wg) || !Number.isInteger(rpt) || rpt < 1 || rpt > 1024
  ) {
    throw new Error(`bad launch shape: ${wg} threads x ${rpt} rows per thread`);
  }
  return { wg, rpt };
}

/**
 * The state of one traversal on the GPU: per-row (min-distance, nearest center), the centers
 * (labeled rows, then picks), partial argmaxes (two halves used in turn) and the picks. Record
 * `init`, then `step` K times (`force` overrides a step's winner), then `finish` reads the
 * picks back. The caller disposes it.
 */
export class Traversal {
  readonly #space: Space;
  readonly #budget: number;
  readonly #rpt: number;
  readonly #wg: number;
  readonly #prune: boolean;
  readonly #stats: boolean;
  /** The counters of STATS in farthest.wgsl: three u32 pairs, low word first. */
  readonly #counts: Tensor;
  readonly #state: Tensor;
  readonly #parts: Tensor;
  readonly #out: Tensor;
  #centers: Tensor | undefined;
  #cc: Tensor | undefined;
  readonly #slots: number;
  readonly #updateGroups: number[];
  #labeled = 0;
  #partsIn = 0;
  #half = 0;
  #step = 0;

  constructor(space: Space, budget: number, opts: TraversalOptions = {}) {
    this.#space = space;
    this.#budget = budget;
    const { wg, rpt } = launchShape(opts);
    this.#wg = wg;
    this.#rpt = rpt;
    this.#prune = (opts.prune ?? true) && space.metric !== "badge-sqeuclidean";
    this.#stats = opts.stats ?? false;
    this.#counts = keep(tensor(new Uint32Array(6), undefined, "u32"));
    this.#updateGroups = space.chunks.map((c) => Math.ceil(c.n / (wg * rpt)));
    const initSlots = space.chunks.reduce((s, c) => s + Math.ceil(c.n / (wg * INIT_ROWS)), 0);
    this.#slots = Math.max(1, initSlots, this.#updateGroups.reduce((a, b) => a + b, 0));
    this.#state = keep(empty([Math.max(1, space.rows), 2], "u32"));
    this.#parts = keep(empty([2 * this.#slots, 2], "u32"));
    this.#out = keep(empty([2 * (budget + 1)], "u32"));
  }

  #uniforms(chunk: Chunk, extra: Record<string, number>) {
    const { slack, tau } = pruneMargins(this.#space.metric, this.#space.wq);
    return {
      n: chunk.n,
      row0: chunk.row0,
      wq: this.#space.wq,
      split_q: this.#space.splitQ,
      m_begin: 0,
      m_end: 0,
      first: 1,
      parts: this.#partsIn,
      part_in: this.#half * this.#slots,
      part_out: 0,
      groups: 1,
      groups_x: 1,
      step: this.#step,
      score_at: this.#budget + 1,
      center: this.#labeled + this.#step,
      slack,
      tau,
      neg_inf: NEG_INF,
      pos_inf: POS_INF,
      _p0: 0,
      ...extra,
    };
  }

  #dispatch(spec: KernelSpec, chunk: Chunk, groups: number, uniforms: Record<string, number>) {
    const { workgroups, groupsX } = grid1d(groups, 1);
    engine().dispatch(spec, {
      buffers: {
        pool: chunk.data.buffer,
        centers: this.#centers!.buffer,
        state: this.#state.buffer,
        cc: this.#cc!.buffer,
        parts: this.#parts.buffer,
        out: this.#out.buffer,
        stats: this.#counts.buffer,
      },
      uniforms: this.#uniforms(chunk, { groups, groups_x: groupsX, ...uniforms }),
      overrides: {
        METRIC: METRICS[this.#space.metric],
        WG: this.#wg,
        RPT: this.#rpt,
        PRUNE: this.#prune ? 1 : 0,
        GATHERED: this.#space.chunks.length > 1 ? 1 : 0,
        STATS: this.#stats ? 1 : 0,
      },
      workgroups,
      label: spec.name,
    });
  }

  /** Running min-distances to `centers` (packed like the pool, one chunk), or +inf without. */
  init(centers?: Space): void {
    if (centers && (centers.chunks.length !== 1 || centers.wq !== this.#space.wq)) {
      throw new Error("Traversal.init: centers must be one chunk as wide as the pool");
    }
    const m = this.#labeled = centers?.rows ?? 0;
    const wq = this.#space.wq;
    this.#centers = keep(empty([m + this.#budget + 1, 4 * wq]));
    this.#cc = keep(empty([m + this.#budget + 1]));
    if (centers) {
      engine().stream.copy(centers.chunks[0].data.buffer, 0, this.#centers.buffer, 0, 16 * wq * m);
    }
    let slot = 0;
    for (const chunk of this.#space.chunks) {
      const groups = Math.ceil(chunk.n / (this.#wg * INIT_ROWS));
      for (let b = 0; b === 0 || b < m; b += LABELED_BATCH) {
        this.#dispatch(farthestInitSpec, chunk, groups, {
          m_begin: b,
          m_end: Math.min(m, b + LABELED_BATCH),
          first: b === 0 ? 1 : 0,
          part_out: this.#half * this.#slots + slot,
        });
      }
      slot += groups;
    }
    this.#partsIn = slot;
  }

  /** Makes `row` the winner the next step takes, whatever the partials say. */
  force(row: number): void {
    const at = 8 * this.#half * this.#slots;
    engine().stream.write(this.#parts.buffer, at, Uint32Array.of(POS_INF, row));
    this.#partsIn = 1;
  }

  /** Records one pick. */
  step(): void {
    if (this.#step >= this.#budget) throw new Error("Traversal.step: budget exhausted");
    if (!this.#centers) throw new Error("Traversal.step before init");
    const chunks = this.#space.chunks;
    if (chunks.length > 1) {
      for (const chunk of chunks) this.#dispatch(farthestGatherSpec, chunk, 1, {});
    }
    // Earlier centers are compared with the new one only when pruning.
    const center = this.#labeled + this.#step;
    const ccGroups = this.#prune ? Math.max(1, Math.ceil(center / this.#wg)) : 1;
    this.#dispatch(farthestCentersSpec, chunks[0], ccGroups, {});
    const out = (1 - this.#half) * this.#slots;
    let slot = 0;
    chunks.forEach((chunk, i) => {
      this.#dispatch(farthestUpdateSpec, chunk, this.#updateGroups[i], { part_out: out + slot });
      slot += this.#updateGroups[i];
    });
    this.#partsIn = slot;
    this.#half = 1 - this.#half;
    this.#step++;
  }

  /** The running min-distances (selected rows: -Infinity), read back now. */
  async minDistances(): Promise<Float32Array> {
    const s = (await this.#state.read()) as Uint32Array;
    const bits = Uint32Array.from({ length: this.#space.rows }, (_, i) => s[2 * i]);
    return new Float32Array(bits.buffer);
  }

  /** Records the last fold and reads the picks and their scores back (one readback). */
  async finish(): Promise<TraversalResult> {
    const k = this.#budget;
    if (this.#step !== k) throw new Error(`Traversal.finish: ${this.#step} of ${k} picks recorded`);
    this.#dispatch(farthestReduceSpec, this.#space.chunks[0], 1, {});
    const raw = await engine().read(this.#out.buffer, 8 * (k + 1));
    const result = {
      picks: new Int32Array(raw, 0, k),
      scores: new Float32Array(raw, 4 * (k + 1), k + 1),
    };
    if (!this.#stats) return result;
    const c = (await this.#counts.read()) as Uint32Array;
    const pair = (i: number) => c[2 * i] + c[2 * i + 1] * 2 ** 32;
    const quadsPerRow = this.#space.wq - (this.#space.metric === "badge-sqeuclidean" ? 1 : 0);
    return {
      ...result,
      pruning: { visited: pair(0), computed: pair(1), quads: pair(2), quadsPerRow },
    };
  }

  dispose(): void {
    for (const t of [this.#state, this.#parts, this.#out, this.#centers, this.#cc, this.#counts]) {
      t?.dispose();
    }
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
