/**
 * Data movement: permute/transpose, concat, slice, indexSelect, scatterAdd (deterministic),
 * oneHot, argmax/argmin, arange. Results are new contiguous tensors. Copies work on any 32-bit
 * dtype (f32, i32, u32); gradients flow through the f32 ones.
 */
import { engine } from "../context.ts";
import { alias, empty, type Tensor } from "../tensor.ts";
import { record } from "../autograd.ts";
import {
  checkPerm,
  MAX_PERMUTE_RANK,
  permuteRun,
  permuteSpec,
  simplifyPermute,
} from "../../kernels/index/permute.ts";
import { MIN_BLOCK, narrowBlocksSpec, narrowElementsSpec } from "../../kernels/index/narrow.ts";
import { gatherElementsSpec, gatherRowsSpec } from "../../kernels/index/gather.ts";
import { scatterLinksSpec, scatterSumSpec } from "../../kernels/index/scatter_add.ts";
import { arangeSpec, oneHotSpec } from "../../kernels/index/iota.ts";
import { argmaxSpec } from "../../kernels/reduce/argmax.ts";
import { contiguousStrides } from "../../kernels/reduce/reduce.ts";
import { rowGeometry } from "../../kernels/softmax/softmax.ts";
import { rowGrid, rowThreads } from "../../kernels/softmax/row_reduce.ts";
import { zeros } from "./elementwise.ts";
import { grid1d } from "./grid.ts";

const WG = 256;

function words(name: string, ...ts: Tensor[]): void {
  for (const t of ts) {
    if (t.dtype === "u8" || t.dtype === "f16") {
      throw new Error(`${name}: supports 32-bit dtypes (f32, i32, u32), got ${t.dtype}`);
    }
  }
}

function resolveAxis(name: string, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) {
    throw new Error(`${name}: axis ${axis} out of range for rank ${rank}`);
  }
  return a;
}

/** [outer, cols, inner] around `axis`. */
function split(shape: readonly number[], axis: number) {
  return {
    outer: shape.slice(0, axis).reduce((p, d) => p * d, 1),
    cols: shape[axis],
    inner: shape.slice(axis + 1).reduce((p, d) => p * d, 1),
  };
}

function permuteRaw(x: Tensor, perm: number[]): Tensor {
  const out = empty(perm.map((d) => x.shape[d]), x.dtype);
  const simple = simplifyPermute(x.shape, perm);
  if (simple.perm.length === 0) simple.perm.push(0), simple.shape.push(1);
  const strides = contiguousStrides(simple.shape);
  const pad = (v: number[]) => [...v, ...new Array(MAX_PERMUTE_RANK - v.length).fill(1)];
  const run = permuteRun(engine().gpu.adapter.isFallback, engine().kernels.permuteRun);
  const { workgroups, groupsX } = grid1d(Math.ceil(out.size / run), WG);
  engine().dispatch(permuteSpec, {
    buffers: { x: x.buffer, out: out.buffer },
    uniforms: {
      n: out.size,
      rank: simple.perm.length,
      groups_x: groupsX,
      _pad: 0,
      shape: pad(simple.perm.map((d) => simple.shape[d])),
      strides: pad(simple.perm.map((d) => strides[d])),
    },
    overrides: { WG, RUN: run },
    workgroups,
    label: "permute",
  });
  return out;
}

/** Dims reordered as `perm` (output dim d is input dim perm[d]), copied contiguous. */
export function permute(x: Tensor, perm: number[]): Tensor {
  words("permute", x);
  const p = checkPerm(perm, x.rank);
  if (x.rank > MAX_PERMUTE_RANK) throw new Error(`permute: rank ${x.rank} > ${MAX_PERMUTE_RANK}`);
  const inverse = new Array<number>(p.length);
  p.forEach((d, i) => (inverse[d] = i));
  return record("permute", [x], permuteRaw(x, p), [], (g) => [permuteRaw(g, inverse)]);
}

export function transpose(x: Tensor, dim0: number, dim1: number): Tensor {
  const a = resolveAxis("transpose", dim0, x.rank), b = resolveAxis("transpose", dim1, x.rank);
  const perm = x.shape.map((_, i) => (i === a ? b : i === b ? a : i));
  return permute(x, perm);
}

/** Copies [outer, len, inner] from src (at srcStart of srcCols) into dst (at dstStart). */
function narrowInto(
  src: Tensor,
  dst: Tensor,
  g: { outer: number; inner: number; len: number },
  at: { srcCols: number; srcStart: number; dstCols: number; dstStart: number },
): void {
  const e = engine();
  const chunk = g.len * g.inner;
  if (chunk === 0 || g.outer === 0) return;
  const srcBase = (o: number) => (o * at.srcCols + at.srcStart) * g.inner * 4;
  const dstBase = (o: number) => (o * at.dstCols + at.dstStart) * g.inner * 4;
  if (g.outer === 1) {
    e.stream.copy(src.buffer, srcBase(0), dst.buffer, dstBase(0), chunk * 4);
    return;
  }
  const blocks = chunk >= MIN_BLOCK;
  const n = g.outer * chunk;
  const flat = grid1d(n, WG);
  const groupsX = blocks ? Math.min(Math.ceil(chunk / WG), 65535) : flat.groupsX;
  const groupsY = Math.min(g.outer, 65535);
  e.dispatch(blocks ? narrowBlocksSpec : narrowElementsSpec, {
    buffers: { src: src.buffer, dst: dst.buffer },
    uniforms: {
      chunk,
      outer: g.outer,
      inner: g.inner,
      groups_x: groupsX,
      groups_y: groupsY,
      n,
      _p0: 0,
      _p1: 0,
      src_cols: at.srcCols,
      src_start: at.srcStart,
      dst_cols: at.dstCols,
      dst_start: at.dstStart,
    },
    overrides: { WG },
    workgroups: blocks ? [groupsX, groupsY, Math.ceil(g.outer / groupsY)] : flat.workgroups,
    label: "narrow",
  });
}

function sliceRaw(x: Tensor, axis: number, start: number, end: number): Tensor {
  const { outer, cols, inner } = split(x.shape, axis);
  const shape = [...x.shape];
  shape[axis] = end - start;
  const out = empty(shape, x.dtype);
  narrowInto(x, out, { outer, inner, len: end - start }, {
    srcCols: cols,
    srcStart: start,
    dstCols: end - start,
    dstStart: 0,
  });
  return out;
}

/** Concatenation along `axis`; all inputs share dtype and every other dim. */
export function concat(xs: Tensor[], axis: number): Tensor {
  if (xs.length === 0) throw new Error("concat: no tensors");
  words("concat", ...xs);
  const first = xs[0];
  const a = resolveAxis("concat", axis, first.rank);
  for (const x of xs) {
    const same = x.rank === first.rank && x.dtype === first.dtype &&
      x.shape.every((d, i) => i === a || d === first.shape[i]);
    if (!same) {
      throw new Error(
        `concat: ${x.dtype}[${x.shape}] does not match ${first.dtype}[${first.shape}] ` +
          `off axis ${axis}`,
      );
    }
  }
  const shape = [...first.shape];
  shape[a] = xs.reduce((s, x) => s + x.shape[a], 0);
  const out = empty(shape, first.dtype);
  const { outer, inner } = split(shape, a);
  const starts: number[] = [];
  let at = 0;
  for (const x of xs) {
    starts.push(at);
    narrowInto(x, out, { outer, inner, len: x.shape[a] }, {
      srcCols: x.shape[a],
      srcStart: 0,
      dstCols: shape[a],
      dstStart: at,
    });
    at += x.shape[a];
  }
  return record(
    "concat",
    xs,
    out,
    [],
    (g) =>
      xs.map((x, i) => x.requiresGrad ? sliceRaw(g, a, starts[i], starts[i] + x.shape[a]) : null),
  );
}

/** x[..., start:end, ...] along `axis` (negative bounds count from the end, as Python). */
export function slice(x: Tensor, axis: number, start: number, end: number): Tensor {
  words("slice", x);
  const a = resolveAxis("slice", axis, x.rank);
  const size = x.shape[a];
  const s = start < 0 ? start + size : start, e = end < 0 ? end + size : end;
  if (!Number.isInteger(s) || !Number.isInteger(e) || s < 0 || e > size || s > e) {
    throw new Error(`slice: [${start}, ${end}) out of range for axis ${axis} of [${x.shape}]`);
  }
  return record("slice", [x], sliceRaw(x, a, s, e), [], (g) => {
    const dx = zeros(x.shape);
    const { outer, cols, inner } = split(x.shape, a);
    narrowInto(g, dx, { outer, inner, len: e - s }, {
      srcCols: e - s,
      srcStart: 0,
      dstCols: cols,
      dstStart: s,
    });
    return [dx];
  });
}

function checkIndex(name: string, index: Tensor): void {
  if (index.dtype !== "i32" || index.rank !== 1) {
    throw new Error(`${name}: index must be i32 [K], got ${index.dtype}[${index.shape}]`);
  }
}

function indexSelectRaw(x: Tensor, axis: number, index: Tensor): Tensor {
  const { outer, cols, inner } = split(x.shape, axis);
  const shape = [...x.shape];
  shape[axis] = index.size;
  const out = empty(shape, x.dtype);
  const rows = outer * index.size;
  const byRow = inner >= MIN_BLOCK;
  const flat = grid1d(out.size, WG);
  const groupsX = byRow ? Math.min(Math.ceil(inner / WG), 65535) : flat.groupsX;
  const groupsY = Math.max(1, Math.min(rows, 65535));
  engine().dispatch(byRow ? gatherRowsSpec : gatherElementsSpec, {
    buffers: { x: x.buffer, index: index.buffer, out: out.buffer },
    uniforms: {
      n: out.size,
      len: index.size,
      inner,
      cols,
      groups_x: groupsX,
      groups_y: groupsY,
      _p0: 0,
      _p1: 0,
    },
    overrides: { WG },
    workgroups: byRow ? [groupsX, groupsY, Math.ceil(rows / groupsY)] : flat.workgroups,
    label: "index_select",
  });
  return out;
}

/** base + src scattered along `axis` at `index`, summed in index order (bit-reproducible). */
function scatterAddRaw(base: Tensor, axis: number, index: Tensor, src: Tensor): Tensor {
  const { outer, cols, inner } = split(base.shape, axis);
  const k = index.size;
  const out = empty(base.shape);
  engine().stream.copy(base.buffer, 0, out.buffer, 0, base.byteLength);
  const chain = empty([2 * k], "u32");
  const uniforms = { len: k, inner, cols, _p0: 0, _p1: 0, _p2: 0 };
  const links = grid1d(k, WG);
  engine().dispatch(scatterLinksSpec, {
    buffers: { index: index.buffer, src: engine().dummy, chain: chain.buffer, out: out.buffer },
    uniforms: { ...uniforms, n: k, groups_x: links.groupsX },
    overrides: { WG },
    workgroups: links.workgroups,
    label: "scatter_links",
  });
  const n = outer * k * inner;
  const sum = grid1d(n, WG);
  engine().dispatch(scatterSumSpec, {
    buffers: { index: index.buffer, src: src.buffer, chain: chain.buffer, out: out.buffer },
    uniforms: { ...uniforms, n, groups_x: sum.groupsX },
    overrides: { WG },
    workgroups: sum.workgroups,
    label: "scatter_add",
  });
  chain.dispose();
  return out;
}

/**
 * x's entries at `index` (i32 [K]) along `axis`, as torch.index_select. An index outside the
 * axis gives zeros (the GPU cannot throw). Backward: a deterministic scatter-add.
 */
export function indexSelect(x: Tensor, axis: number, index: Tensor): Tensor {
  words("indexSelect", x);
  checkIndex("indexSelect", index);
  const a = resolveAxis("indexSelect", axis, x.rank);
  const out = indexSelectRaw(x, a, index);
  return record("index_select", [x], out, [index], (g) => {
    const z = zeros(x.shape);
    const dx = scatterAddRaw(z, a, index, g);
    z.dispose();
    return [dx];
  });
}

/**
 * base with src added at `index` along `axis` (torch.index_add): src has base's shape with
 * the axis of length K. Sums per destination in index order: bit-reproducible. Indices outside
 * the axis are ignored. f32. Finding each index's next duplicate costs O(K²) comparisons in
 * total (K threads), which is fine for K up to ~10⁴.
 */
export function scatterAdd(base: Tensor, axis: number, index: Tensor, src: Tensor): Tensor {
  checkIndex("scatterAdd", index);
  if (base.dtype !== "f32" || src.dtype !== "f32") throw new Error("scatterAdd: expects f32");
  const a = resolveAxis("scatterAdd", axis, base.rank);
  const ok = src.rank === base.rank && src.shape[a] === index.size &&
    src.shape.every((d, i) => i === a || d === base.shape[i]);
  if (!ok) {
    throw new Error(
      `scatterAdd: src [${src.shape}] must be base [${base.shape}] with axis ${axis} of ` +
        `length ${index.size}`,
    );
  }
  const out = scatterAddRaw(base, a, index, src);
  return record("scatter_add", [base, src], out, [index], (g) => [
    base.requiresGrad ? alias(g) : null,
    src.requiresGrad ? indexSelectRaw(g, a, index) : null,
  ]);
}

/** f32 [B, classes] with 1 at each label (i32 [B]); a label outside [0, classes) gives zeros. */
export function oneHot(labels: Tensor, classes: number): Tensor {
  if (labels.dtype !== "i32" || labels.rank !== 1) {
    throw new Error(`oneHot: labels must be i32 [B], got ${labels.dtype}[${labels.shape}]`);
  }
  if (!Number.isInteger(classes) || classes < 1) {
    throw new Error(`oneHot: classes must be a positive integer, got ${classes}`);
  }
  const out = empty([labels.size, classes]);
  const { workgroups, groupsX } = grid1d(out.size, WG);
  engine().dispatch(oneHotSpec, {
    buffers: { labels: labels.buffer, out: out.buffer },
    uniforms: { n: out.size, classes, groups_x: groupsX, _pad: 0 },
    overrides: { WG },
    workgroups,
    label: "one_hot",
  });
  return out;
}

function argExtreme(op: "argmax" | "argmin", x: Tensor, axis: number): Tensor {
  if (x.dtype !== "f32") throw new Error(`${op}: expects f32, got ${x.dtype}`);
  const { axis: a, rows, cols, inner } = rowGeometry(x.shape, axis);
  if (cols === 0) throw new Error(`${op}: empty axis ${axis} of [${x.shape}]`);
  const out = empty(x.shape.filter((_, i) => i !== a), "i32");
  const { workgroups, groupsX } = rowGrid(rows);
  engine().dispatch(argmaxSpec, {
    buffers: { x: x.buffer, out: out.buffer },
    uniforms: { rows, cols, inner, groups_x: groupsX },
    overrides: {
      MAX: op === "argmax" ? 1 : 0,
      WG: rowThreads(cols, engine().gpu.adapter.isFallback, engine().kernels.rowThreads),
    },
    workgroups,
    label: op,
  });
  return out;
}

/** i32 index of the largest value along `axis` (first on ties; NaN counts as largest). */
export function argmax(x: Tensor, axis = -1): Tensor {
  return argExtreme("argmax", x, axis);
}

/** i32 index of the smallest value along `axis` (first on ties; NaN wins, as torch). */
export function argmin(x: Tensor, axis = -1): Tensor {
  return argExtreme("argmin", x, axis);
}

/** [0, 1, …, n − 1] as i32 (default) or f32. */
export function arange(n: number, dtype: "f32" | "i32" = "i32"): Tensor {
  if (!Number.isInteger(n) || n < 0) throw new Error(`arange: n must be a count, got ${n}`);
  const out = empty([n], dtype);
  const { workgroups, groupsX } = grid1d(n, WG);
  engine().dispatch(arangeSpec, {
    buffers: { labels: engine().dummy, out: out.buffer },
    uniforms: { n, classes: 1, groups_x: groupsX, _pad: 0 },
    overrides: { WG, AS_F32: dtype === "f32" ? 1 : 0 },
    workgroups,
    label: "arange",
  });
  return out;
}
