/**
 * slice and concat: contiguous runs copied along an axis (each is the other's backward). Any
 * 32-bit dtype; gradients flow through f32.
 */
import { engine } from "../context.ts";
import { empty, type Tensor } from "../tensor.ts";
import { record } from "../autograd.ts";
import { MIN_BLOCK, narrowBlocksSpec, narrowElementsSpec } from "../../kernels/index/narrow.ts";
import { zeros } from "./elementwise.ts";
import { grid1d } from "./grid.ts";
import { resolveAxis, split, words } from "./axes.ts";

const WG = 256;

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
