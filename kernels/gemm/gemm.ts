/** The GEMM core: kernel spec, shape planning (batch broadcasting) and the float64 reference. */
import { type KernelSpec, wgsl } from "../spec.ts";
import { erf } from "../erf.ts";

const BINDINGS = ["a", "b", "bias", "residual", "c", "params"];

/** Register-tiled, reading storage directly (llvmpipe's best). */
export const gemmSpec: KernelSpec = {
  name: "gemm",
  source: wgsl("./gemm.wgsl", import.meta.url),
  bindings: BINDINGS,
};

/** `gemmSpec` with A shared by subgroup broadcasts (llvmpipe with subgroups). */
export const gemmSubgroupSpec: KernelSpec = {
  name: "gemm_subgroup",
  source: wgsl("./gemm_subgroup.wgsl", import.meta.url),
  bindings: BINDINGS,
};

/** Staged through workgroup memory (GPUs). Same bindings and uniforms as `gemmSpec`. */
export const gemmTiledSpec: KernelSpec = {
  name: "gemm_tiled",
  source: wgsl("./gemm_tiled.wgsl", import.meta.url),
  bindings: BINDINGS,
};

export type Activation = "none" | "relu" | "relu6" | "gelu" | "quick_gelu";

/** Activation codes of the GEMM kernels (uniform `act`) and of activation_grad.wgsl (ACT). */
export const ACTIVATIONS: Record<Activation, number> = {
  none: 0,
  relu: 1,
  relu6: 2,
  gelu: 3,
  quick_gelu: 4,
};

/** Batch dims the kernel addresses directly (more are merged where strides allow). */
export const MAX_BATCH_RANK = 4;

export interface GemmPlan {
  m: number;
  n: number;
  k: number;
  /** Broadcast batch shape of the output (before merging). */
  batchShape: number[];
  outShape: number[];
  /** Merged batch dims (≤ MAX_BATCH_RANK) with each operand's element strides (0: broadcast). */
  kernelBatch: number[];
  aStrides: number[];
  bStrides: number[];
  batch: number;
}

/** Shapes of op(A)·op(B) with NumPy broadcasting of the leading dims; throws on mismatch. */
export function planGemm(
  aShape: readonly number[],
  bShape: readonly number[],
  transA = false,
  transB = false,
): GemmPlan {
  if (aShape.length < 2 || bShape.length < 2) {
    throw new Error(`matmul: operands need rank >= 2, got [${aShape}] and [${bShape}]`);
  }
  const [ar, ac] = aShape.slice(-2);
  const [br, bc] = bShape.slice(-2);
  const [m, k] = transA ? [ac, ar] : [ar, ac];
  const [kb, n] = transB ? [bc, br] : [br, bc];
  if (k !== kb) {
    throw new Error(
      `matmul: inner dims differ: [${aShape}]${transA ? "ᵀ" : ""} · [${bShape}]${
        transB ? "ᵀ" : ""
      } (${k} vs ${kb})`,
    );
  }
  const aLead = aShape.slice(0, -2), bLead = bShape.slice(0, -2);
  const rank = Math.max(aLead.length, bLead.length);
  const batchShape: number[] = [];
  const aS: number[] = [], bS: number[] = [];
  let sa = m * k, sb = k * n;
  const aStr = new Array(rank).fill(0), bStr = new Array(rank).fill(0);
  for (let i = rank - 1; i >= 0; i--) {
    const da = aLead[aLead.length - rank + i] ?? 1;
    const db = bLead[bLead.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(`matmul: batch dims of [${aShape}] and [${bShape}] do not broadcast`);
    }
    batchShape[i] = Math.max(da, db);
    aStr[i] = da === 1 ? 0 : sa;
    bStr[i] = db === 1 ? 0 : sb;
    sa *= da;
    sb *= db;
  }
  // Drop size-1 dims and merge neighbours whose strides chain (dim i outer of i+1).
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) {
    if (batchShape[i] === 1) continue;
    const last = dims.length - 1;
    if (
      last >= 0 &&
      aS[last] === aStr[i] * batchShape[i] &&
      bS[last] === bStr[i] * batchShape[i]
    ) {
      dims[last] *= batchShape[i];
      aS[last] = aStr[i];
      bS[last] = bStr[i];
    } else {
      dims.push(batchShape[i]);
      aS.push(aStr[i]);
      bS.push(bStr[i]);
    }
  }
  if (dims.length > MAX_BATCH_RANK) {
    throw new Error(`matmul: batch dims of [${aShape}] and [${bShape}] need more than 4 strides`);
  }
  const batch = batchShape.reduce((p, d) => p * d, 1);
  return {
    m,
    n,
    k,
    batchShape,
    outShape: [...batchShape, m, n],
    kernelBatch: dims,
    aStrides: aS,
    bStrides: bS,
    batch,
  };
}

export interface GemmReferenceOptions {
  transA?: boolean;
  transB?: boolean;
  alpha?: number;
  bias?: ArrayLike<number>;
  residual?: ArrayLike<number>;
  activation?: Activation;
}

export function activationReference(act: Activation): (v: number) => number {
  switch (act) {
    case "none":
      return (v) => v;
    case "relu":
      return (v) => (Number.isNaN(v) ? v : Math.max(v, 0));
    case "relu6":
      return (v) => (Number.isNaN(v) ? v : Math.min(Math.max(v, 0), 6));
    case "gelu":
      return (v) => 0.5 * v * (1 + erf(v / Math.SQRT2));
    case "quick_gelu":
      return (v) => v / (1 + Math.exp(-1.702 * v));
  }
}

/** act(alpha·op(A)·op(B) + bias + residual) in float64, batch dims broadcast. */
export function gemmReference(
  a: ArrayLike<number>,
  aShape: readonly number[],
  b: ArrayLike<number>,
  bShape: readonly number[],
  opts: GemmReferenceOptions = {},
): Float64Array {
  const { transA = false, transB = false, alpha = 1, activation = "none" } = opts;
  const p = planGemm(aShape, bShape, transA, transB);
  const { m, n, k } = p;
  const act = activationReference(activation);
  const out = new Float64Array(p.batch * m * n);
  const rank = p.batchShape.length;
  const aLead = aShape.slice(0, -2), bLead = bShape.slice(0, -2);
  for (let bi = 0; bi < p.batch; bi++) {
    // Batch offsets of each operand (broadcast dims repeat entry 0).
    let rem = bi, ao = 0, bo = 0, sa = 1, sb = 1;
    for (let d = rank - 1; d >= 0; d--) {
      const idx = rem % p.batchShape[d];
      rem = Math.floor(rem / p.batchShape[d]);
      const da = aLead[aLead.length - rank + d] ?? 1;
      const db = bLead[bLead.length - rank + d] ?? 1;
      ao += (da === 1 ? 0 : idx) * sa;
      bo += (db === 1 ? 0 : idx) * sb;
      sa *= da;
      sb *= db;
    }
    ao *= m * k;
    bo *= k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let t = 0; t < k; t++) {
          const av = a[ao + (transA ? t * m + i : i * k + t)];
          const bv = b[bo + (transB ? j * k + t : t * n + j)];
          s += av * bv;
        }
        const o = bi * m * n + i * n + j;
        let v = alpha * s;
        if (opts.bias) v += opts.bias[j];
        if (opts.residual) v += opts.residual[o];
        out[o] = act(v);
      }
    }
  }
  return out;
}
