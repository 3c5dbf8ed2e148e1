/** Unary elementwise kernel: spec, op codes and the float64 reference. */
import { type KernelSpec, wgsl } from "../spec.ts";
import { erf } from "../erf.ts";

export const unarySpec: KernelSpec = {
  name: "unary",
  source: wgsl("./unary.wgsl", import.meta.url),
  bindings: ["x", "out", "params"],
};

export const UNARY_OPS = {
  neg: 0,
  exp: 1,
  log: 2,
  sqrt: 3,
  rsqrt: 4,
  relu: 5,
  relu6: 6,
  gelu: 7,
  quick_gelu: 8,
  sigmoid: 9,
  tanh: 10,
  abs: 11,
  affine: 12,
  clamp: 13,
  pow_scalar: 14,
  square: 15,
  reciprocal: 16,
  fill: 17,
  normal_cdf: 18,
} as const;
export type UnaryOp = keyof typeof UNARY_OPS;

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

export function unaryReference(op: UnaryOp, alpha = 0, beta = 0): (v: number) => number {
  switch (op) {
    case "neg":
      return (v) => -v;
    case "exp":
      return Math.exp;
    case "log":
      return Math.log;
    case "sqrt":
      return Math.sqrt;
    case "rsqrt":
      return (v) => 1 / Math.sqrt(v);
    case "relu":
      return (v) => (Number.isNaN(v) ? NaN : Math.max(v, 0));
    case "relu6":
      return (v) => (Number.isNaN(v) ? NaN : Math.min(Math.max(v, 0), 6));
    case "gelu":
      return (v) => 0.5 * v * (1 + erf(v / Math.SQRT2));
    case "quick_gelu":
      return (v) => v * sigmoid(1.702 * v);
    case "sigmoid":
      return sigmoid;
    case "tanh":
      return Math.tanh;
    case "abs":
      return Math.abs;
    case "affine":
      return (v) => v * alpha + beta;
    case "clamp":
      return (v) => (Number.isNaN(v) ? NaN : Math.min(Math.max(v, alpha), beta));
    case "pow_scalar":
      return (v) => v ** alpha;
    case "square":
      return (v) => v * v;
    case "reciprocal":
      return (v) => 1 / v;
    case "fill":
      return () => alpha;
    case "normal_cdf":
      return (v) => 0.5 * (1 + erf(v / Math.SQRT2));
  }
}
