/** Broadcasting binary elementwise kernel: spec, op codes and the float64 reference. */
import { type KernelSpec, wgsl } from "../spec.ts";

export const binarySpec: KernelSpec = {
  name: "binary",
  source: wgsl("./binary.wgsl", import.meta.url),
  bindings: ["a", "b", "out", "params"],
};

export const BINARY_OPS = {
  add: 0,
  sub: 1,
  mul: 2,
  div: 3,
  pow: 4,
  maximum: 5,
  minimum: 6,
  lt: 7,
  le: 8,
  gt: 9,
  ge: 10,
  eq: 11,
  ne: 12,
} as const;
export type BinaryOp = keyof typeof BINARY_OPS;

/** Highest rank the uniform struct can describe. */
export const MAX_RANK = 8;

export function binaryElementReference(op: BinaryOp): (x: number, y: number) => number {
  switch (op) {
    case "add":
      return (x, y) => x + y;
    case "sub":
      return (x, y) => x - y;
    case "mul":
      return (x, y) => x * y;
    case "div":
      return (x, y) => x / y;
    case "pow":
      return (x, y) => x ** y;
    case "maximum":
      return (x, y) => (Number.isNaN(x) || Number.isNaN(y) ? NaN : Math.max(x, y));
    case "minimum":
      return (x, y) => (Number.isNaN(x) || Number.isNaN(y) ? NaN : Math.min(x, y));
    case "lt":
      return (x, y) => +(x < y);
    case "le":
      return (x, y) => +(x <= y);
    case "gt":
      return (x, y) => +(x > y);
    case "ge":
      return (x, y) => +(x >= y);
    case "eq":
      return (x, y) => +(x === y);
    case "ne":
      return (x, y) => +(x !== y);
  }
}

/** NumPy broadcast of two shapes; throws naming both when incompatible. */
export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(`shapes [${a}] and [${b}] do not broadcast`);
    }
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Strides (in elements) of `shape` read as `out` with broadcast dims at stride 0. */
export function broadcastStrides(shape: readonly number[], out: readonly number[]): number[] {
  const strides = new Array(out.length).fill(0);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const k = out.length - shape.length + i;
    strides[k] = shape[i] === 1 ? 0 : s;
    s *= shape[i];
  }
  return strides;
}

/** Reference: float64 evaluation over the broadcast shape. */
export function binaryReference(
  op: BinaryOp,
  a: ArrayLike<number>,
  aShape: readonly number[],
  b: ArrayLike<number>,
  bShape: readonly number[],
): Float64Array {
  const shape = broadcastShapes(aShape, bShape);
  const sa = broadcastStrides(aShape, shape);
  const sb = broadcastStrides(bShape, shape);
  const n = shape.reduce((p, d) => p * d, 1);
  const f = binaryElementReference(op);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let rem = i, ia = 0, ib = 0;
    for (let d = shape.length - 1; d >= 0; d--) {
      const c = rem % shape[d];
      rem = Math.floor(rem / shape[d]);
      ia += c * sa[d];
      ib += c * sb[d];
    }
    out[i] = f(a[ia], b[ib]);
  }
  return out;
}
