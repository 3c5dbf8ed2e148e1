/** Elementwise ops with NumPy broadcasting, each with its backward rule. */
import { engine } from "../context.ts";
import { empty, Tensor } from "../tensor.ts";
import { record } from "../autograd.ts";
import {
  BINARY_OPS,
  type BinaryOp,
  binarySpec,
  broadcastShapes,
  broadcastStrides,
  MAX_RANK,
} from "../../kernels/elementwise/binary.ts";
import { UNARY_OPS, type UnaryOp, unarySpec } from "../../kernels/elementwise/unary.ts";
import { grid1d } from "./grid.ts";
import { sumToShape } from "./reduce.ts";

const WG = 256;

function pad(v: readonly number[]): number[] {
  return [...v, ...new Array(MAX_RANK - v.length).fill(1)];
}

function f32(name: string, ...ts: Tensor[]): void {
  for (const t of ts) {
    if (t.dtype !== "f32") throw new Error(`${name}: expects f32 tensors, got ${t.dtype}`);
  }
}

/** Raw broadcasting binary kernel, no autograd. */
export function binaryRaw(op: BinaryOp, a: Tensor, b: Tensor): Tensor {
  f32(op, a, b);
  const shape = broadcastShapes(a.shape, b.shape);
  if (shape.length > MAX_RANK) throw new Error(`${op}: rank ${shape.length} > ${MAX_RANK}`);
  const out = empty(shape);
  const same = a.size === out.size && b.size === out.size;
  const { workgroups, groupsX } = grid1d(out.size, WG);
  engine().dispatch(binarySpec, {
    buffers: { a: a.buffer, b: b.buffer, out: out.buffer },
    uniforms: {
      n: out.size,
      rank: shape.length,
      groups_x: groupsX,
      _pad: 0,
      shape: pad(shape),
      a_strides: pad(broadcastStrides(a.shape, shape)),
      b_strides: pad(broadcastStrides(b.shape, shape)),
    },
    overrides: { OP: BINARY_OPS[op], BROADCAST: same ? 0 : 1, WG },
    workgroups,
    label: op,
  });
  return out;
}

/** Raw unary kernel, no autograd. */
export function unaryRaw(op: UnaryOp, x: Tensor, alpha = 0, beta = 0): Tensor {
  f32(op, x);
  const out = empty(x.shape);
  const { workgroups, groupsX } = grid1d(out.size, WG);
  engine().dispatch(unarySpec, {
    buffers: { x: x.buffer, out: out.buffer },
    uniforms: { n: out.size, groups_x: groupsX, alpha, beta },
    overrides: { OP: UNARY_OPS[op], WG },
    workgroups,
    label: op,
  });
  return out;
}

/** A new f32 tensor of `shape` filled with `value`. */
export function full(shape: readonly number[], value: number): Tensor {
  const out = empty(shape);
  const { workgroups, groupsX } = grid1d(out.size, WG);
  // The input binding is never read for `fill`.
  engine().dispatch(unarySpec, {
    buffers: { x: engine().dummy, out: out.buffer },
    uniforms: { n: out.size, groups_x: groupsX, alpha: value, beta: 0 },
    overrides: { OP: UNARY_OPS.fill, WG },
    workgroups,
    label: "fill",
  });
  return out;
}

export const zeros = (shape: readonly number[]) => full(shape, 0);
export const ones = (shape: readonly number[]) => full(shape, 1);

export function add(a: Tensor, b: Tensor): Tensor {
  return record("add", [a, b], binaryRaw("add", a, b), [], (g) => [
    a.requiresGrad ? sumToShape(g, a.shape) : null,
    b.requiresGrad ? sumToShape(g, b.shape) : null,
  ]);
}

export function sub(a: Tensor, b: Tensor): Tensor {
  return record("sub", [a, b], binaryRaw("sub", a, b), [], (g) => [
    a.requiresGrad ? sumToShape(g, a.shape) : null,
    b.requiresGrad ? sumToShape(unaryRaw("neg", g), b.shape) : null,
  ]);
}

export function mul(a: Tensor, b: Tensor): Tensor {
  return record("mul", [a, b], binaryRaw("mul", a, b), [a, b], (g) => [
    a.requiresGrad ? sumToShape(binaryRaw("mul", g, b), a.shape) : null,
    b.requiresGrad ? sumToShape(binaryRaw("mul", g, a), b.shape) : null,
  ]);
}

export function div(a: Tensor, b: Tensor): Tensor {
  const out = binaryRaw("div", a, b);
  return record("div", [a, b], out, [b, out], (g) => {
    const ga = a.requiresGrad || b.requiresGrad ? binaryRaw("div", g, b) : null;
    return [
      a.requiresGrad ? sumToShape(ga!, a.shape) : null,
      // d(a/b)/db = -(a/b)/b = -out/b
      b.requiresGrad ? sumToShape(unaryRaw("neg", binaryRaw("mul", ga!, out)), b.shape) : null,
    ];
  });
}

/** Elementwise max (gradient goes to `a` where a >= b, else to `b`, as torch.maximum splits ties). */
export function maximum(a: Tensor, b: Tensor): Tensor {
  return record("maximum", [a, b], binaryRaw("maximum", a, b), [a, b], (g) => {
    const ge = binaryRaw("ge", a, b);
    return [
      a.requiresGrad ? sumToShape(binaryRaw("mul", g, ge), a.shape) : null,
      b.requiresGrad
        ? sumToShape(binaryRaw("mul", g, unaryRaw("affine", ge, -1, 1)), b.shape)
        : null,
    ];
  });
}

/** Comparisons return 0/1 as f32 and are not differentiable. */
export function compare(op: "lt" | "le" | "gt" | "ge" | "eq" | "ne", a: Tensor, b: Tensor): Tensor {
  return binaryRaw(op, a, b);
}

/** x * alpha + beta. */
export function affine(x: Tensor, alpha: number, beta = 0): Tensor {
  return record("affine", [x], unaryRaw("affine", x, alpha, beta), [], (g) => [
    unaryRaw("affine", g, alpha, 0),
  ]);
}

export const scale = (x: Tensor, alpha: number) => affine(x, alpha, 0);

export function neg(x: Tensor): Tensor {
  return record("neg", [x], unaryRaw("neg", x), [], (g) => [unaryRaw("neg", g)]);
}

export function exp(x: Tensor): Tensor {
  const out = unaryRaw("exp", x);
  return record("exp", [x], out, [out], (g) => [binaryRaw("mul", g, out)]);
}

export function log(x: Tensor): Tensor {
  return record("log", [x], unaryRaw("log", x), [x], (g) => [binaryRaw("div", g, x)]);
}

export function sqrt(x: Tensor): Tensor {
  const out = unaryRaw("sqrt", x);
  return record("sqrt", [x], out, [out], (g) => [
    binaryRaw("div", unaryRaw("affine", g, 0.5, 0), out),
  ]);
}

export function rsqrt(x: Tensor): Tensor {
  const out = unaryRaw("rsqrt", x);
  // d/dx x^-1/2 = -1/2 x^-3/2 = -1/2 out^3
  return record("rsqrt", [x], out, [out], (g) => [
    binaryRaw("mul", g, unaryRaw("affine", unaryRaw("pow_scalar", out, 3), -0.5, 0)),
  ]);
}

export function square(x: Tensor): Tensor {
  return record("square", [x], unaryRaw("square", x), [x], (g) => [
    binaryRaw("mul", g, unaryRaw("affine", x, 2, 0)),
  ]);
}

export function abs(x: Tensor): Tensor {
  return record("abs", [x], unaryRaw("abs", x), [x], (g) => {
    // sign(x) = (x > 0) - (x < 0); torch gives 0 at 0.
    const z = zeros([1]);
    const s = binaryRaw("sub", binaryRaw("gt", x, z), binaryRaw("lt", x, z));
    return [binaryRaw("mul", g, s)];
  });
}

export function relu(x: Tensor): Tensor {
  const out = unaryRaw("relu", x);
  return record("relu", [x], out, [out], (g) => [
    binaryRaw("mul", g, binaryRaw("gt", out, zeros([1]))),
  ]);
}

export function relu6(x: Tensor): Tensor {
  return record("relu6", [x], unaryRaw("relu6", x), [x], (g) => {
    const inside = binaryRaw(
      "mul",
      binaryRaw("gt", x, zeros([1])),
      binaryRaw("lt", x, full([1], 6)),
    );
    return [binaryRaw("mul", g, inside)];
  });
}

export function sigmoid(x: Tensor): Tensor {
  const out = unaryRaw("sigmoid", x);
  return record("sigmoid", [x], out, [out], (g) => [
    binaryRaw("mul", g, binaryRaw("mul", out, unaryRaw("affine", out, -1, 1))),
  ]);
}

export function tanh(x: Tensor): Tensor {
  const out = unaryRaw("tanh", x);
  return record("tanh", [x], out, [out], (g) => [
    binaryRaw("mul", g, unaryRaw("affine", unaryRaw("square", out), -1, 1)),
  ]);
}

/** x·σ(1.702x), CLIP's activation. */
export function quickGelu(x: Tensor): Tensor {
  return record("quick_gelu", [x], unaryRaw("quick_gelu", x), [x], (g) => {
    // d/dx xσ(kx) = σ(kx) + kxσ(kx)(1-σ(kx))
    const s = unaryRaw("sigmoid", unaryRaw("affine", x, 1.702, 0));
    const ks = binaryRaw("mul", unaryRaw("affine", x, 1.702, 0), unaryRaw("affine", s, -1, 1));
    return [binaryRaw("mul", g, binaryRaw("mul", s, unaryRaw("affine", ks, 1, 1)))];
  });
}

/** Exact (erf) GELU. */
export function gelu(x: Tensor): Tensor {
  return record("gelu", [x], unaryRaw("gelu", x), [x], (g) => {
    // d/dx xΦ(x) = Φ(x) + xφ(x)
    const cdf = unaryRaw("normal_cdf", x);
    const pdf = unaryRaw(
      "affine",
      unaryRaw("exp", unaryRaw("affine", unaryRaw("square", x), -0.5, 0)),
      1 / Math.sqrt(2 * Math.PI),
      0,
    );
    return [binaryRaw("mul", g, binaryRaw("add", cdf, binaryRaw("mul", x, pdf)))];
  });
}

export function clamp(x: Tensor, lo: number, hi: number): Tensor {
  return record("clamp", [x], unaryRaw("clamp", x, lo, hi), [x], (g) => {
    const inside = binaryRaw(
      "mul",
      binaryRaw("ge", x, full([1], lo)),
      binaryRaw("le", x, full([1], hi)),
    );
    return [binaryRaw("mul", g, inside)];
  });
}

/** where(cond, a, b) with cond as 0/1 f32: cond·a + (1−cond)·b, differentiable in a and b. */
export function where(cond: Tensor, a: Tensor, b: Tensor): Tensor {
  const notCond = unaryRaw("affine", cond, -1, 1);
  const out = binaryRaw("add", binaryRaw("mul", cond, a), binaryRaw("mul", notCond, b));
  notCond.dispose();
  return record("where", [a, b], out, [cond], (g) => [
    a.requiresGrad ? sumToShape(binaryRaw("mul", g, cond), a.shape) : null,
    b.requiresGrad
      ? sumToShape(binaryRaw("mul", g, unaryRaw("affine", cond, -1, 1)), b.shape)
      : null,
  ]);
}
