/** Reductions (sum, mean, max, min) over any axes, and `sumToShape` for broadcasting grads. */
import { engine } from "../context.ts";
import { alias, empty, Tensor } from "../tensor.ts";
import { record } from "../autograd.ts";
import {
  MAX_REDUCE_RANK,
  REDUCE_OPS,
  type ReduceOp,
  reducePlan,
  reduceSpec,
} from "../../kernels/reduce/reduce.ts";
import { binaryRaw, unaryRaw } from "./elementwise.ts";
import { reshape } from "./shape.ts";

const WG = 256;

function pad(v: readonly number[]): number[] {
  return [...v, ...new Array(MAX_REDUCE_RANK - v.length).fill(1)];
}

/** Raw reduction; the result keeps reduced dims as size 1 when `keepDims`. */
export function reduceRaw(
  op: ReduceOp,
  x: Tensor,
  axes: readonly number[],
  keepDims = false,
): Tensor {
  if (x.dtype !== "f32") throw new Error(`${op}: expects f32, got ${x.dtype}`);
  const p = reducePlan(x.shape, axes);
  if (x.shape.length > MAX_REDUCE_RANK) throw new Error(`${op}: rank > ${MAX_REDUCE_RANK}`);
  const out = empty(keepDims ? p.keepDimsShape : p.outShape);
  const outN = out.size;
  const groupsX = Math.min(outN, 65535);
  engine().dispatch(reduceSpec, {
    buffers: { x: x.buffer, out: out.buffer },
    uniforms: {
      out_n: outN,
      red_n: p.redShape.reduce((a, b) => a * b, 1),
      out_rank: p.outShape.length,
      red_rank: p.redShape.length,
      groups_x: groupsX,
      init_bits: op === "sum" ? 0 : op === "max" ? 0xff800000 : 0x7f800000,
      _p1: 0,
      _p2: 0,
      out_shape: pad(p.outShape),
      out_strides: pad(p.outStrides),
      red_shape: pad(p.redShape),
      red_strides: pad(p.redStrides),
    },
    overrides: { OP: REDUCE_OPS[op], WG },
    workgroups: [groupsX, Math.ceil(outN / groupsX)],
    label: op,
  });
  return out;
}

function allAxes(x: Tensor): number[] {
  return x.shape.map((_, i) => i);
}

/** Sums `g` down to `shape` (the inverse of NumPy broadcasting). */
export function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  if (g.shape.length === shape.length && g.shape.every((d, i) => d === shape[i])) {
    return alias(g);
  }
  const lead = g.shape.length - shape.length;
  const axes: number[] = [];
  g.shape.forEach((d, i) => {
    if (i < lead || (shape[i - lead] === 1 && d !== 1)) axes.push(i);
  });
  const s = reduceRaw("sum", g, axes, true);
  const out = reshape(s, shape);
  s.dispose();
  return out;
}

export function sum(x: Tensor, axes: readonly number[] = allAxes(x), keepDims = false): Tensor {
  const out = reduceRaw("sum", x, axes, keepDims);
  return record("sum", [x], out, [], (g) => {
    // Broadcast g back over the reduced axes: g (kept dims) + zeros(x.shape).
    const gk = reshape(g, reducePlan(x.shape, axes).keepDimsShape);
    const z = unaryRaw("fill", x, 0, 0);
    const r = binaryRaw("add", z, gk);
    z.dispose();
    gk.dispose();
    return [r];
  });
}

export function mean(x: Tensor, axes: readonly number[] = allAxes(x), keepDims = false): Tensor {
  const p = reducePlan(x.shape, axes);
  const n = p.redShape.reduce((a, b) => a * b, 1);
  const s = sum(x, axes, keepDims);
  const m = scaleKeep(s, 1 / n);
  s.dispose();
  return m;
}

function scaleKeep(x: Tensor, alpha: number): Tensor {
  return record("scale", [x], unaryRaw("affine", x, alpha, 0), [], (g) => [
    unaryRaw("affine", g, alpha, 0),
  ]);
}

/** max over axes; the gradient goes to every maximal element (as torch.amax splits evenly). */
export function max(x: Tensor, axes: readonly number[] = allAxes(x), keepDims = false): Tensor {
  return extreme("max", x, axes, keepDims);
}

export function min(x: Tensor, axes: readonly number[] = allAxes(x), keepDims = false): Tensor {
  return extreme("min", x, axes, keepDims);
}

function extreme(op: "max" | "min", x: Tensor, axes: readonly number[], keepDims: boolean) {
  const out = reduceRaw(op, x, axes, keepDims);
  return record(op, [x], out, [x, out], (g) => {
    const shape = reducePlan(x.shape, axes).keepDimsShape;
    const ok = reshape(out, shape);
    const gk = reshape(g, shape);
    const mask = binaryRaw("eq", x, ok);
    const count = reduceRaw("sum", mask, axes, true);
    const r = binaryRaw("mul", mask, binaryRaw("div", gk, count));
    for (const t of [ok, gk, mask, count]) t.dispose();
    return [r];
  });
}
