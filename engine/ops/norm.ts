/**
 * Normalisation: layerNorm (last dim, fused forward and backward), l2Normalize (any axis, as
 * F.normalize) and the L2 norm over axes. Row kernels in kernels/norm/norm.wgsl.
 */
import { engine } from "../context.ts";
import { empty, type Tensor } from "../tensor.ts";
import { record } from "../autograd.ts";
import { binaryRaw, full, unaryRaw } from "./elementwise.ts";
import { reduceRaw } from "./reduce.ts";
import { reshape } from "./shape.ts";
import {
  l2NormalizeBackward,
  l2NormalizeForward,
  layerNormBackward,
  layerNormForward,
  layerNormParamGrad,
} from "../../kernels/norm/norm.ts";
import { reducePlan } from "../../kernels/reduce/reduce.ts";
import { rowGeometry } from "../../kernels/softmax/softmax.ts";
import {
  rowGrid,
  type RowKernel,
  rowThreads,
  rowVariant,
} from "../../kernels/softmax/row_reduce.ts";

/** Rows per partial sum of layer norm's weight and bias gradients. */
const PARAM_GRAD_ROWS = 64;

type NormBuffers = Partial<Record<"x" | "w" | "b" | "g" | "stats" | "out" | "out2", Tensor>>;

/** One norm.wgsl entry; unused inputs read the dummy buffer, unused outputs get scratch. */
function run(
  kernel: RowKernel,
  label: string,
  bufs: NormBuffers,
  geo: { rows: number; cols: number; inner?: number },
  opts: {
    eps?: number;
    weight?: boolean;
    bias?: boolean;
    chunk?: number;
    workgroups?: [number, number];
  } = {},
): void {
  const e = engine();
  const { workgroups, groupsX } = rowGrid(geo.rows);
  const scratch: Tensor[] = [];
  const rw = (t: Tensor | undefined) => {
    if (t) return t.buffer;
    const s = empty([1]);
    scratch.push(s);
    return s.buffer;
  };
  e.dispatch(rowVariant(kernel, e.gpu.features, e.kernels.subgroups), {
    buffers: {
      x: bufs.x?.buffer ?? e.dummy,
      w: bufs.w?.buffer ?? e.dummy,
      b: bufs.b?.buffer ?? e.dummy,
      g: bufs.g?.buffer ?? e.dummy,
      stats: rw(bufs.stats),
      out: rw(bufs.out),
      out2: rw(bufs.out2),
    },
    uniforms: {
      rows: geo.rows,
      cols: geo.cols,
      inner: geo.inner ?? 1,
      groups_x: groupsX,
      eps: opts.eps ?? 0,
      chunk: opts.chunk ?? 0,
      _p1: 0,
      _p2: 0,
    },
    overrides: {
      WG: opts.workgroups
        ? 256
        : rowThreads(geo.cols, e.gpu.adapter.isFallback, e.kernels.rowThreads),
      HAS_WEIGHT: opts.weight ? 1 : 0,
      HAS_BIAS: opts.bias ? 1 : 0,
    },
    workgroups: opts.workgroups ?? workgroups,
    label,
  });
  for (const s of scratch) s.dispose();
}

function f32Only(name: string, ...ts: (Tensor | undefined)[]): void {
  for (const t of ts) {
    if (t && t.dtype !== "f32") throw new Error(`${name}: expects f32 tensors, got ${t.dtype}`);
  }
}

/**
 * Layer norm over the last dim: (x − mean)/sqrt(var + eps)·weight + bias, biased variance as
 * torch. weight and bias are [D] or absent.
 */
export function layerNorm(
  x: Tensor,
  weight: Tensor | undefined,
  bias: Tensor | undefined,
  eps = 1e-5,
): Tensor {
  f32Only("layerNorm", x, weight, bias);
  const d = x.shape[x.rank - 1];
  for (const [name, p] of [["weight", weight], ["bias", bias]] as const) {
    if (p && (p.rank !== 1 || p.shape[0] !== d)) {
      throw new Error(`layerNorm: ${name} must be [${d}], got [${p.shape}]`);
    }
  }
  const rows = x.size / d;
  const geo = { rows, cols: d };
  const affine = { eps, weight: !!weight, bias: !!bias };
  const y = empty(x.shape);
  const stats = empty([rows, 2]); // mean, 1/std per row
  run(layerNormForward, "layer_norm", { x, w: weight, b: bias, stats, out: y }, geo, affine);
  const out = record("layer_norm", [x, weight, bias], y, [x, stats, ...(weight ? [weight] : [])], (
    g,
  ) => {
    const dx = x.requiresGrad ? empty(x.shape) : null;
    if (dx) {
      run(layerNormBackward, "layer_norm_backward", { x, w: weight, g, stats, out: dx }, geo, {
        ...affine,
      });
    }
    let dw: Tensor | null = null, db: Tensor | null = null;
    if (weight?.requiresGrad || bias?.requiresGrad) {
      // Partial sums over chunks of rows (parallel), then over chunks: a fixed order.
      const chunk = Math.max(PARAM_GRAD_ROWS, Math.ceil(rows / 65535));
      const chunks = Math.ceil(rows / chunk);
      const pw = empty([chunks, d]), pb = empty([chunks, d]);
      run(layerNormParamGrad, "layer_norm_param_grad", { x, g, stats, out: pw, out2: pb }, geo, {
        chunk,
        workgroups: [Math.ceil(d / 256), chunks],
      });
      dw = reduceRaw("sum", pw, [0]);
      db = reduceRaw("sum", pb, [0]);
    }
    return [dx, weight?.requiresGrad ? dw : null, bias?.requiresGrad ? db : null];
  });
  stats.dispose();
  return out;
}

/** x / max(‖x‖₂, eps) along `axis`, as torch.nn.functional.normalize. */
export function l2Normalize(x: Tensor, axis = -1, eps = 1e-12): Tensor {
  f32Only("l2Normalize", x);
  const geo = rowGeometry(x.shape, axis);
  const y = empty(x.shape);
  const stats = empty([geo.rows]); // max(‖x‖, eps) per row
  run(l2NormalizeForward, "l2_normalize", { x, stats, out: y }, geo, { eps });
  const out = record("l2_normalize", [x], y, [y, stats], (g) => {
    const dx = empty(x.shape);
    run(l2NormalizeBackward, "l2_normalize_backward", { x: y, g, stats, out: dx }, geo, { eps });
    return [dx];
  });
  stats.dispose();
  return out;
}

/** The L2 norm over `axes` (all by default); its gradient at a zero norm is 0. */
export function norm(x: Tensor, axes?: number[], keepDims = false): Tensor {
  f32Only("norm", x);
  const ax = axes ?? x.shape.map((_, i) => i);
  const sq = unaryRaw("square", x);
  const ss = reduceRaw("sum", sq, ax, keepDims);
  sq.dispose();
  const n = unaryRaw("sqrt", ss);
  ss.dispose();
  return record("norm", [x], n, [x, n], (g) => {
    // dx = x·g/‖x‖, with ‖x‖ floored at the smallest normal float so 0/0 becomes 0.
    const shape = reducePlan(x.shape, ax).keepDimsShape;
    const nk = reshape(n, shape);
    const gk = reshape(g, shape);
    const tiny = full([1], 1.1754944e-38);
    const r = binaryRaw("mul", x, binaryRaw("div", gk, binaryRaw("maximum", nk, tiny)));
    return [r];
  });
}
