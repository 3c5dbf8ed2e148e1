/**
 * Pool matrices on the GPU in the layout the farthest-first kernels read: rows of whole vec4s
 * in chunks, each no larger than one storage binding, so pools of any size stream through the
 * same kernels. Packing applies the strategy's row transform (as is, L2-normalised, or BADGE's
 * factorised gradient embedding) and checks the input on the way.
 */
import { engine } from "../../engine/context.ts";
import { collectGarbage } from "../../engine/gc.ts";
import { InputError } from "../../engine/errors.ts";
import { grid1d } from "../../engine/ops/grid.ts";
import { empty, keep, scopeAsync, Tensor, tensor } from "../../engine/tensor.ts";
import type { Metric } from "../../kernels/distance/farthest.ts";
import {
  checkRowsSpec,
  FLAG,
  packBadgeSpec,
  packCopySpec,
  packUnitSpec,
} from "../../kernels/distance/pack.ts";
import { dims, isRowStream } from "./matrix.ts";
import { type HostMatrix, type Matrix, PROBABILITY_TOLERANCE, type RowStream } from "./types.ts";

const WG = 256;
/** Chunks start at multiples of 64 rows: 256-byte aligned sub-bindings of any f32 matrix. */
const ROW_ALIGN = 64;
const NONE = 0xffffffff;

/**
 * probs: rows as they are (squared Euclidean); unit: L2-normalised (1 - cos); badge: the
 * normalised gradient embedding (1 - cos); badge-raw: the unnormalised one (squared Euclidean).
 */
export type SpaceKind = "probs" | "unit" | "badge" | "badge-raw";

const METRIC: Record<SpaceKind, Metric> = {
  probs: "sqeuclidean",
  unit: "cosine",
  badge: "badge-cosine",
  "badge-raw": "badge-sqeuclidean",
};

export interface Chunk {
  /** Global index of the first row. */
  row0: number;
  n: number;
  /** Row-major [n, 4 wq]. */
  data: Tensor;
}

/** A packed matrix; the caller owns it (`dispose`). */
export interface Space {
  metric: Metric;
  rows: number;
  /** vec4s per packed row. */
  wq: number;
  /** First vec4 of block b (BADGE kinds). */
  splitQ: number;
  /** Its flag group in the InputChecks it was packed with. */
  flagAt: number;
  chunks: Chunk[];
  dispose(): void;
}

export interface PackOptions {
  /** Largest chunk in bytes (default: the adapter's storage binding limit). */
  maxChunkBytes?: number;
  /** Host rows uploaded per dispatch, in bytes (default SLICE_BYTES; at least ROW_ALIGN rows). */
  sliceBytes?: number;
}

/**
 * Input checks that packing records on the GPU (first offending row per kind), read back once
 * with `read()` and reported as InputError naming the matrix and the row.
 */
export class InputChecks {
  static readonly GROUPS = 4;
  readonly flags: Tensor;
  #names: [string, string][] = [];
  #values: Uint32Array | undefined;

  constructor() {
    this.flags = keep(tensor(new Uint32Array(4 * InputChecks.GROUPS).fill(NONE), undefined, "u32"));
  }

  /** A flag group for one packing: returns its first slot. */
  group(src: string, src2 = ""): number {
    if (this.#names.length === InputChecks.GROUPS) throw new Error("InputChecks: no group left");
    this.#names.push([src, src2]);
    return 4 * (this.#names.length - 1);
  }

  /** Reads the flags (after everything recorded so far) and throws on bad input. */
  async read(): Promise<void> {
    const f = this.#values = (await this.flags.read()) as Uint32Array;
    this.#names.forEach(([src, src2], g) => {
      const row = (kind: number) => f[4 * g + kind];
      if (row(FLAG.srcNotFinite) !== NONE) {
        throw new InputError(`${src}: row ${row(FLAG.srcNotFinite)} contains NaN or Inf`);
      }
      if (row(FLAG.src2NotFinite) !== NONE) {
        throw new InputError(`${src2}: row ${row(FLAG.src2NotFinite)} contains NaN or Inf`);
      }
      if (row(FLAG.notProbability) !== NONE) {
        throw new InputError(
          `${src}: row ${row(FLAG.notProbability)} is not a probability vector (entries >= 0, ` +
            `sum within ${PROBABILITY_TOLERANCE} of 1)`,
        );
      }
    });
  }

  /** BADGE packings: the first row with a non-zero gradient embedding (undefined if none). */
  firstNonZero(group: number): number | undefined {
    if (!this.#values) throw new Error("InputChecks.firstNonZero before read()");
    const row = this.#values[group + FLAG.firstNonZero];
    return row === NONE ? undefined : row;
  }

  dispose(): void {
    this.flags.dispose();
  }
}

function maxBindingBytes(opts: PackOptions): number {
  const l = engine().gpu.limits;
  return Math.min(
    l.maxStorageBufferBindingSize ?? 134217728,
    l.maxBufferSize ?? 268435456,
    opts.maxChunkBytes ?? Infinity,
  );
}

/** Row ranges of at most `maxBytes` per row-major source and per packed chunk. */
export function chunkRows(rows: number, rowBytes: number, maxBytes: number): number {
  if (rows * rowBytes <= maxBytes) return Math.max(rows, 1);
  const per = Math.floor(maxBytes / rowBytes / ROW_ALIGN) * ROW_ALIGN;
  if (per < ROW_ALIGN) {
    throw new InputError(
      `rows of ${rowBytes / 4} values are too wide: ${ROW_ALIGN} of them exceed one GPU ` +
        `storage binding (${maxBytes} bytes)`,
    );
  }
  return per;
}

/**
 * Host rows uploaded per pack dispatch (at least ROW_ALIGN rows): a host or streamed pool costs
 * this much host and staging memory beyond its packed copy, however large it is.
 */
const SLICE_BYTES = 1 << 20;
/** Streamed slices between garbage collections while packing. */
const GC_SLICES = 64;

/**
 * Rows [row0, row0 + n) of a matrix, bound where they live: rows in host memory or streamed are
 * uploaded (into a tensor of the current scope) as soon as they are read.
 */
async function rowsBinding(m: Matrix, row0: number, n: number, cols: number) {
  if (m instanceof Tensor) return { buffer: m.buffer, offset: row0 * cols * 4, size: n * cols * 4 };
  return { buffer: tensor(await hostRows(m, row0, n, cols), [n, cols]).buffer };
}

/** Rows [row0, row0 + n) of a matrix in host memory or streamed. */
function hostRows(m: HostMatrix | RowStream, row0: number, n: number, cols: number) {
  return isRowStream(m)
    ? m.rows(row0, n)
    : Promise.resolve(m.data.subarray(row0 * cols, (row0 + n) * cols));
}

/**
 * Packs `src` [N, C] (and for BADGE kinds `src2` = features [N, D]) into a Space. Named
 * `what` / `what2` in error messages; `probabilities` checks src rows are probabilities. Rows
 * not on the GPU go up in slices of SLICE_BYTES, each packed before the next is read.
 */
export async function pack(
  kind: SpaceKind,
  src: Matrix,
  src2: Matrix | undefined,
  checks: InputChecks,
  names: { what: string; what2?: string; probabilities: boolean },
  opts: PackOptions = {},
): Promise<Space> {
  const [rows, cols] = dims(src, names.what);
  const badge = kind === "badge" || kind === "badge-raw";
  let cols2 = 0;
  if (badge) {
    if (!src2) throw new Error(`pack ${kind}: features missing`);
    const [rows2, d] = dims(src2, names.what2 ?? "features");
    if (rows2 !== rows) {
      throw new InputError(`${names.what2}: ${rows2} rows, but ${names.what} has ${rows}`);
    }
    cols2 = d;
  }
  const quads = (k: number) => Math.ceil(k / 4);
  const wq = badge ? quads(cols) + quads(cols2) + (kind === "badge-raw" ? 1 : 0) : quads(cols);
  const per = chunkRows(rows, Math.max(16 * wq, 4 * cols, 4 * cols2), maxBindingBytes(opts));
  const onGpu = src instanceof Tensor && (!badge || src2 instanceof Tensor);
  const sliceRows = onGpu ? per : Math.min(
    per,
    Math.max(
      ROW_ALIGN,
      Math.floor((opts.sliceBytes ?? SLICE_BYTES) / (4 * (cols + cols2)) / ROW_ALIGN) * ROW_ALIGN,
    ),
  );
  const flagAt = checks.group(names.what, names.what2);
  const splitQ = badge ? quads(cols) : 0;
  const space = { metric: METRIC[kind], rows, wq, splitQ, flagAt };
  // Host rows already in the packed layout (whole vec4s) go straight into their chunk, which
  // the checks then read: no slice buffer beside it. dst must be bound, though not written: the
  // engine's dummy buffer serves.
  const inPlace = !onGpu && kind === "probs" && cols === 4 * wq;
  const spec = inPlace
    ? checkRowsSpec
    : badge
    ? packBadgeSpec
    : kind === "unit"
    ? packUnitSpec
    : packCopySpec;
  const chunks: Chunk[] = [];
  let slices = 0;
  const dispose = () => chunks.forEach((c) => c.data.dispose());
  try {
    for (let row0 = 0; row0 < rows; row0 += per) {
      const n = Math.min(per, rows - row0);
      const data = keep(empty([n, 4 * wq]));
      chunks.push({ row0, n, data });
      for (let s0 = row0; s0 < row0 + n; s0 += sliceRows) {
        const ns = Math.min(sliceRows, row0 + n - s0);
        // An upload's staging memory is freed once the queue has run it: before the next slice
        // goes up, wait for the last, so that a streamed pool holds one slice of it at a time.
        // (After the last slice the caller's input-check readback waits anyway.)
        if (!onGpu && s0 > 0) await engine().sync();
        // A streamed pool's slices leave garbage in the JS heap that small heaps seldom collect:
        // collecting every GC_SLICES keeps it from growing while the packed copy fills memory.
        if (isRowStream(src) && ++slices % GC_SLICES === 0) collectGarbage();
        await scopeAsync(async () => {
          const chunk = { buffer: data.buffer, offset: (s0 - row0) * 16 * wq, size: ns * 16 * wq };
          let a, dst;
          if (inPlace) {
            const rows = await hostRows(src as HostMatrix | RowStream, s0, ns, cols);
            engine().stream.write(chunk.buffer, chunk.offset, rows);
            [a, dst] = [chunk, { buffer: engine().dummy, offset: 0, size: 16 }];
          } else [a, dst] = [await rowsBinding(src, s0, ns, cols), chunk];
          const b = badge ? await rowsBinding(src2!, s0, ns, cols2) : a;
          const { workgroups, groupsX } = grid1d(ns, WG);
          engine().dispatch(spec, {
            buffers: { src: a, src2: b, dst, flags: checks.flags.buffer },
            uniforms: {
              n: ns,
              row0: s0,
              w_src: cols,
              d_src: cols2,
              wq,
              split: 4 * splitQ,
              groups_x: groupsX,
              flag_at: flagAt,
              check_prob: names.probabilities ? 1 : 0,
              tol: PROBABILITY_TOLERANCE,
              _p0: 0,
              _p1: 0,
            },
            overrides: { WG, NORMALISE: kind === "badge" ? 1 : 0 },
            workgroups,
            label: spec.name,
          });
        });
      }
    }
  } catch (e) {
    dispose();
    throw e;
  }
  // Streaming left the garbage of every slice's reads and dispatches in the JS heap; collecting
  // it now, before the caller's traversal allocates, lowers the peak (1M x 100 pool: ~8 MiB).
  if (isRowStream(src)) collectGarbage();
  return { ...space, chunks, dispose };
}
