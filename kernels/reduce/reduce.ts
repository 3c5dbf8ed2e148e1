/** Deterministic reduction over any set of axes: spec and float64 reference. */
import { type KernelSpec, wgsl } from "../spec.ts";

export const reduceSpec: KernelSpec = {
  name: "reduce",
  source: wgsl("./reduce.wgsl", import.meta.url),
  bindings: ["x", "out", "params"],
};

export const REDUCE_OPS = { sum: 0, max: 1, min: 2 } as const;
export type ReduceOp = keyof typeof REDUCE_OPS;
export const MAX_REDUCE_RANK = 8;

/** Row-major strides of a shape. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const s = new Array(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
  return s;
}

/** Splits `shape` into kept and reduced dims (with input strides) for the kernel. */
export function reducePlan(shape: readonly number[], axes: readonly number[]) {
  const strides = contiguousStrides(shape);
  const red = new Set(axes.map((a) => (a < 0 ? a + shape.length : a)));
  for (const a of red) {
    if (a < 0 || a >= shape.length) throw new Error(`axis ${a} out of range for [${shape}]`);
  }
  const keep = shape.map((_, i) => i).filter((i) => !red.has(i));
  const reduced = shape.map((_, i) => i).filter((i) => red.has(i));
  return {
    outShape: keep.map((i) => shape[i]),
    outStrides: keep.map((i) => strides[i]),
    redShape: reduced.map((i) => shape[i]),
    redStrides: reduced.map((i) => strides[i]),
    keepDimsShape: shape.map((d, i) => (red.has(i) ? 1 : d)),
  };
}

export function reduceReference(
  op: ReduceOp,
  x: ArrayLike<number>,
  shape: readonly number[],
  axes: readonly number[],
): Float64Array {
  const p = reducePlan(shape, axes);
  const outN = p.outShape.reduce((a, b) => a * b, 1);
  const redN = p.redShape.reduce((a, b) => a * b, 1);
  const out = new Float64Array(outN);
  const offset = (i: number, dims: number[], strides: number[]) => {
    let off = 0;
    for (let d = dims.length - 1; d >= 0; d--) {
      off += (i % dims[d]) * strides[d];
      i = Math.floor(i / dims[d]);
    }
    return off;
  };
  for (let o = 0; o < outN; o++) {
    const base = offset(o, p.outShape, p.outStrides);
    let acc = op === "sum" ? 0 : op === "max" ? -Infinity : Infinity;
    for (let r = 0; r < redN; r++) {
      const v = x[base + offset(r, p.redShape, p.redStrides)];
      if (op === "sum") acc += v;
      else if (Number.isNaN(v) || Number.isNaN(acc)) acc = NaN;
      else acc = op === "max" ? Math.max(acc, v) : Math.min(acc, v);
    }
    out[o] = acc;
  }
  return out;
}
