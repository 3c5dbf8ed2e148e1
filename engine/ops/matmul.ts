/** Matrix products on the shared GEMM core: matmul (batched, broadcast), linear, gemmRaw. */
import { engine } from "../context.ts";
import type { KernelSpec } from "../../kernels/spec.ts";
import { empty, Tensor } from "../tensor.ts";
import { needsGrad, record } from "../autograd.ts";
import {
  type Activation,
  ACTIVATIONS,
  gemmSpec,
  gemmSubgroupSpec,
  gemmTiledSpec,
  MAX_BATCH_RANK,
  planGemm,
} from "../../kernels/gemm/gemm.ts";
import { tileShape } from "../../kernels/gemm/tiles.ts";
import { unaryRaw } from "./elementwise.ts";
import { sumToShape } from "./reduce.ts";
import { reshape } from "./shape.ts";
import { activationGradRaw } from "./activation_grad.ts";
import { LimitError } from "../errors.ts";

export type { Activation };

export interface MatmulOptions {
  transA?: boolean;
  transB?: boolean;
  /** [N], added per column. */
  bias?: Tensor;
  /** Same shape as the output, added before the activation. */
  residual?: Tensor;
  activation?: Activation;
  /** Scales A·B before bias. */
  alpha?: number;
}

const MAX_GROUPS = 65535;

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Raw kernel call without autograd (for other kernels' backward rules), same semantics. */
export function gemmRaw(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  const { transA = false, transB = false, bias, residual, alpha = 1 } = opts;
  const act = opts.activation ?? "none";
  for (const t of [a, b, bias, residual]) {
    if (t && t.dtype !== "f32") throw new Error(`matmul: expects f32 tensors, got ${t.dtype}`);
  }
  const p = planGemm(a.shape, b.shape, transA, transB);
  if (bias && bias.size !== p.n) {
    throw new Error(`matmul: bias [${bias.shape}] does not match ${p.n} output columns`);
  }
  if (residual && !sameShape(residual.shape, p.outShape)) {
    throw new Error(`matmul: residual [${residual.shape}] is not the output shape [${p.outShape}]`);
  }
  const out = empty(p.outShape);
  if (out.size === 0) return out;
  // B shared by every batch entry and A contiguous over them: one tall product.
  const aBatch = a.size / (p.m * p.k);
  const fold = !transA && p.batch > 1 && aBatch === p.batch && b.size === p.k * p.n;
  const m = fold ? p.m * p.batch : p.m;
  const batch = fold ? 1 : p.batch;
  const pad = MAX_BATCH_RANK - p.kernelBatch.length;
  const lead = (v: number[], fill: number) => [...new Array(pad).fill(fill), ...v];
  const tiles = engine().kernels.gemmTiles;
  const { bm, bn } = tileShape(tiles);
  const gx = Math.ceil(p.n / bn), gy = Math.ceil(m / bm);
  if (gx > MAX_GROUPS || gy > MAX_GROUPS) {
    throw new LimitError(`matmul: output [${p.outShape}] exceeds the dispatch grid`);
  }
  const { kernel, ...sizes } = tiles;
  // vec4 loads need the operand's contiguous dim and K to be multiples of 4.
  const vecA = p.k % 4 === 0 && (!transA || p.m % 4 === 0);
  const vecB = p.k % 4 === 0 && (transB || p.n % 4 === 0);
  const [spec, variant]: [KernelSpec, Record<string, number>] = kernel === "direct"
    ? [gemmSpec, { VEC_A: +vecA, VEC_B: +vecB }]
    : kernel === "subgroup"
    ? [gemmSubgroupSpec, { VEC_B: +vecB }]
    : [gemmTiledSpec, {}];
  for (let z0 = 0; z0 < batch; z0 += MAX_GROUPS) {
    engine().dispatch(spec, {
      buffers: {
        a: a.buffer,
        b: b.buffer,
        bias: bias?.buffer ?? engine().dummy,
        residual: residual?.buffer ?? engine().dummy,
        c: out.buffer,
      },
      uniforms: {
        m,
        n: p.n,
        k: p.k,
        alpha,
        batch_offset: z0,
        epilogue: (bias ? 1 : 0) | (residual ? 2 : 0),
        act: ACTIVATIONS[act],
        _pad: 0,
        batch_shape: fold ? [1, 1, 1, 1] : lead(p.kernelBatch, 1),
        a_strides: fold ? [0, 0, 0, 0] : lead(p.aStrides, 0),
        b_strides: fold ? [0, 0, 0, 0] : lead(p.bStrides, 0),
      },
      overrides: {
        ...sizes,
        ...variant,
        TRANS_A: +transA,
        TRANS_B: +transB,
      },
      workgroups: [gx, gy, Math.min(MAX_GROUPS, batch - z0)],
      label: "matmul",
    });
  }
  return out;
}

/**
 * C = act(alpha·op(A)·op(B) + bias + residual). A [..., M, K] (or [..., K, M] with transA),
 * B [..., K, N] (or [..., N, K] with transB); leading batch dims broadcast NumPy-style (incl. a
 * rank-2 operand against a batched one). Differentiable in A, B, bias, residual.
 */
export function matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  const { transA = false, transB = false, bias, residual, alpha = 1 } = opts;
  const act = opts.activation ?? "none";
  const inputs = [a, b, bias, residual];
  if (!needsGrad(inputs)) return gemmRaw(a, b, opts);
  // A batched A against one B: a single 2-D product, so dB is one GEMM, not a batch to sum.
  if (a.rank > 2 && b.rank === 2 && !transA) {
    const k = a.shape[a.rank - 1];
    const a2 = reshape(a, [-1, k]);
    const r2 = residual && reshape(residual, [a2.shape[0], residual.shape.at(-1)!]);
    const out2 = matmul(a2, b, { ...opts, residual: r2 });
    const out = reshape(out2, [...a.shape.slice(0, -1), out2.shape[1]]);
    for (const t of [a2, r2, out2]) t?.dispose();
    return out;
  }
  const recompute = act === "gelu" || act === "quick_gelu";
  // gelu/quick_gelu need the pre-activation z in backward; relu/relu6 mask from the output.
  const z = recompute ? gemmRaw(a, b, { ...opts, activation: "none" }) : undefined;
  const out = z ? unaryRaw(act as "gelu" | "quick_gelu", z) : gemmRaw(a, b, opts);
  const saved = [a, b, ...(z ? [z] : act === "none" ? [] : [out])];
  const result = record("matmul", inputs, out, saved, (g) => {
    const gz = act === "none" ? g : activationGradRaw(act, g, z ?? out);
    const o = { alpha };
    return [
      a.requiresGrad
        ? sumToShape(
          transA
            ? gemmRaw(b, gz, { ...o, transA: transB, transB: true })
            : gemmRaw(gz, b, { ...o, transB: !transB }),
          a.shape,
        )
        : null,
      b.requiresGrad
        ? sumToShape(
          transB
            ? gemmRaw(gz, a, { ...o, transA: true, transB: transA })
            : gemmRaw(a, gz, { ...o, transA: !transA }),
          b.shape,
        )
        : null,
      bias?.requiresGrad ? sumToShape(gz, bias.shape) : null,
      residual?.requiresGrad ? sumToShape(gz, residual.shape) : null,
    ];
  });
  z?.dispose();
  return result;
}

/** PyTorch F.linear: x [..., in] · weightᵀ (weight [out, in]) + bias [out]. Differentiable. */
export function linear(
  x: Tensor,
  weight: Tensor,
  bias?: Tensor,
  activation: Activation = "none",
): Tensor {
  if (x.rank === 1) {
    const x2 = reshape(x, [1, x.size]);
    const y2 = matmul(x2, weight, { transB: true, bias, activation });
    const y = reshape(y2, [y2.size]);
    x2.dispose();
    y2.dispose();
    return y;
  }
  return matmul(x, weight, { transB: true, bias, activation });
}
