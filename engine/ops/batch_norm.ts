/**
 * BatchNorm over the channel dim (PyTorch `F.batch_norm`), forward and backward, with an
 * optional fused residual add and relu/relu6 after it (ResNet's `relu(bn(conv(x)) + identity)`,
 * MobileNetV2's `relu6(bn(conv(x)))`). Training mode normalises with the batch mean and biased
 * variance and updates the running statistics in place (momentum, unbiased variance,
 * `num_batches_tracked`); evaluation mode uses the running statistics. The kernels work on
 * channels-last tensors (`batchNormNhwc`); `batchNorm2d` takes NCHW.
 */
import { engine } from "../context.ts";
import { empty, type Tensor } from "../tensor.ts";
import { needsGrad, record } from "../autograd.ts";
import {
  batchNormApplySpec,
  batchNormBackwardSpec,
  batchNormFinalizeSpec,
  batchNormReduceSpec,
} from "../../kernels/norm/batch_norm.ts";
import { CONV_ACTIVATIONS, type ConvActivation } from "./conv_geometry.ts";
import { permute } from "./permute.ts";

export interface BatchNormOptions {
  /** Batch statistics (and running-stat updates) when true, running statistics when false. */
  training: boolean;
  runningMean?: Tensor;
  runningVar?: Tensor;
  /** i32 [1] (or []), incremented per training call when the running stats are updated. */
  numBatchesTracked?: Tensor;
  momentum?: number;
  eps?: number;
  /** Added after the normalisation, before the activation (same shape as x). */
  residual?: Tensor;
  activation?: ConvActivation;
}

const WG = 16;
const APPLY_WG = 64;

/** Pixels per chunk of the per-channel reductions: ≥ 64, and at most ~64 chunks. */
function chunkFor(pixels: number): number {
  return Math.max(64, Math.ceil(pixels / 64));
}

/** A throwaway buffer for a writable binding a kernel variant never touches. */
function scratch(): Tensor {
  return empty([4]);
}

/** Per-channel sums over pixel chunks (MODE 0 moments of x; MODE 1 Σg', Σg'·x̂). */
function reduceChunks(
  mode: 0 | 1,
  x: Tensor,
  pixels: number,
  channels: number,
  extra: { g?: Tensor; y?: Tensor; stats?: Tensor; act?: ConvActivation } = {},
): { partial: Tensor; chunks: number; chunk: number } {
  const chunk = chunkFor(pixels);
  const chunks = Math.ceil(pixels / chunk);
  const partial = empty([chunks, 2, channels]);
  const act = extra.act ?? "none";
  engine().dispatch(batchNormReduceSpec, {
    buffers: {
      x: x.buffer,
      g: extra.g?.buffer ?? engine().dummy,
      y: act !== "none" && extra.y ? extra.y.buffer : engine().dummy,
      stats: extra.stats?.buffer ?? engine().dummy,
      partial: partial.buffer,
    },
    uniforms: { pixels, channels, chunk, _p0: 0 },
    overrides: { WG, MODE: mode, ACT: CONV_ACTIVATIONS[act] },
    workgroups: [Math.ceil(channels / (4 * WG)), chunks],
    label: mode === 0 ? "batch_norm_stats" : "batch_norm_grad_sums",
  });
  return { partial, chunks, chunk };
}

interface Finalize {
  mode: 0 | 1 | 2;
  channels: number;
  partial?: { partial: Tensor; chunks: number; chunk: number };
  pixels?: number;
  weight?: Tensor;
  bias?: Tensor;
  opts?: BatchNormOptions;
}

/** Stats [4, C] (mean, invstd, scale, shift) for modes 0/2; sums [2, C] for mode 1. */
function finalize(f: Finalize): Tensor {
  const out = empty([f.mode === 1 ? 2 : 4, f.channels]);
  const o = f.opts;
  const update = f.mode === 0 && !!o?.runningMean;
  const temps: Tensor[] = [];
  const writable = (t: Tensor | undefined) => {
    if (t) return t.buffer;
    const s = scratch();
    temps.push(s);
    return s.buffer;
  };
  engine().dispatch(batchNormFinalizeSpec, {
    buffers: {
      partial: f.partial?.partial.buffer ?? engine().dummy,
      weight: f.weight?.buffer ?? engine().dummy,
      bias: f.bias?.buffer ?? engine().dummy,
      running_mean: writable(f.mode === 1 ? undefined : o?.runningMean),
      running_var: writable(f.mode === 1 ? undefined : o?.runningVar),
      batches: writable(update ? o?.numBatchesTracked : undefined),
      out: out.buffer,
    },
    uniforms: {
      channels: f.channels,
      chunks: f.partial?.chunks ?? 0,
      pixels: f.pixels ?? 0,
      chunk: f.partial?.chunk ?? 0,
      momentum: o?.momentum ?? 0.1,
      eps: o?.eps ?? 1e-5,
      _p0: 0,
      _p1: 0,
    },
    overrides: { MODE: f.mode, UPDATE_RUNNING: +update, HAS_AFFINE: +!!f.weight },
    workgroups: [Math.ceil(f.channels / 64)],
    label: ["batch_norm_finalize", "batch_norm_grad_finalize", "batch_norm_eval_stats"][f.mode],
  });
  for (const t of temps) t.dispose();
  return out;
}

/**
 * Dispatches of the per-element kernels: pixels along x (APPLY_WG per workgroup, at most 65535
 * workgroups), 4-channel blocks along y. Yields the uniforms and grid of each.
 */
function* pixelBlockDispatches(pixels: number, channels: number, wg: number) {
  const per = 65535 * wg;
  for (let base = 0; base < pixels; base += per) {
    const count = Math.min(per, pixels - base);
    yield {
      uniforms: { pixels, channels, pixel_base: base, chunk_pixels: count },
      workgroups: [Math.ceil(count / wg), Math.ceil(channels / 4)] as [number, number],
    };
  }
}

function applyRaw(
  x: Tensor,
  stats: Tensor,
  pixels: number,
  channels: number,
  residual: Tensor | undefined,
  act: ConvActivation,
): Tensor {
  const y = empty(x.shape);
  for (const d of pixelBlockDispatches(pixels, channels, APPLY_WG)) {
    engine().dispatch(batchNormApplySpec, {
      buffers: {
        x: x.buffer,
        stats: stats.buffer,
        residual: residual?.buffer ?? engine().dummy,
        y: y.buffer,
      },
      uniforms: d.uniforms,
      overrides: { WG: APPLY_WG, HAS_RESIDUAL: +!!residual, ACT: CONV_ACTIVATIONS[act] },
      workgroups: d.workgroups,
      label: "batch_norm",
    });
  }
  return y;
}

/** Copies row `row` of a [rows, C] tensor into a new [C] tensor. */
function row(t: Tensor, r: number): Tensor {
  const c = t.shape[1];
  const out = empty([c]);
  engine().stream.copy(t.buffer, r * c * 4, out.buffer, 0, c * 4);
  return out;
}

function checkParam(name: string, t: Tensor | undefined, c: number, dtype = "f32"): void {
  if (t && (t.size !== c || t.dtype !== dtype)) {
    throw new Error(`batch_norm: ${name} must be ${dtype}[${c}], got ${t.dtype}[${t.shape}]`);
  }
}

/**
 * BatchNorm of a channels-last tensor x [..., C] (statistics over every dim but the last),
 * with optional affine weight/bias [C], fused residual and activation. Differentiable in x,
 * weight, bias and residual.
 */
export function batchNormNhwc(
  x: Tensor,
  weight: Tensor | undefined,
  bias: Tensor | undefined,
  opts: BatchNormOptions,
): Tensor {
  if (x.dtype !== "f32" || x.rank < 2) {
    throw new Error(`batch_norm: expects an f32 tensor [..., C], got ${x.dtype}[${x.shape}]`);
  }
  const channels = x.shape[x.rank - 1];
  const pixels = x.size / channels;
  checkParam("weight", weight, channels);
  checkParam("bias", bias, channels);
  checkParam("running_mean", opts.runningMean, channels);
  checkParam("running_var", opts.runningVar, channels);
  checkParam("num_batches_tracked", opts.numBatchesTracked, 1, "i32");
  const { residual, training } = opts;
  const act = opts.activation ?? "none";
  if (residual && residual.shape.join() !== x.shape.join()) {
    throw new Error(
      `batch_norm: residual [${residual.shape}] must be the input shape [${x.shape}]`,
    );
  }
  if (!training && !(opts.runningMean && opts.runningVar)) {
    throw new Error("batch_norm: evaluation mode needs running_mean and running_var");
  }
  if (training && pixels < 2) {
    throw new Error(`batch_norm: training needs more than 1 value per channel, got [${x.shape}]`);
  }
  let stats: Tensor;
  if (training) {
    const partial = reduceChunks(0, x, pixels, channels);
    stats = finalize({ mode: 0, channels, partial, pixels, weight, bias, opts });
    partial.partial.dispose();
  } else {
    stats = finalize({ mode: 2, channels, weight, bias, opts });
  }
  const y = applyRaw(x, stats, pixels, channels, residual, act);
  if (!needsGrad([x, weight, bias, residual])) {
    stats.dispose();
    return y;
  }
  const out = record("batch_norm", [x, weight, bias, residual], y, [
    x,
    stats,
    ...(act === "none" ? [] : [y]),
  ], (g) => {
    const p = reduceChunks(1, x, pixels, channels, { g, y, stats, act });
    const sums = finalize({ mode: 1, channels, partial: p, pixels });
    const dx = empty(x.shape);
    const dres = residual?.requiresGrad ? empty(x.shape) : scratch();
    for (const d of pixelBlockDispatches(pixels, channels, APPLY_WG)) {
      engine().dispatch(batchNormBackwardSpec, {
        buffers: {
          x: x.buffer,
          g: g.buffer,
          y: act === "none" ? engine().dummy : y.buffer,
          stats: stats.buffer,
          sums: sums.buffer,
          weight: weight?.buffer ?? engine().dummy,
          dx: dx.buffer,
          dres: dres.buffer,
        },
        uniforms: d.uniforms,
        overrides: {
          WG: APPLY_WG,
          RESIDUAL_GRAD: +!!residual?.requiresGrad,
          HAS_AFFINE: +!!weight,
          BATCH_STATS: +training,
          ACT: CONV_ACTIVATIONS[act],
        },
        workgroups: d.workgroups,
        label: "batch_norm_backward",
      });
    }
    return [
      x.requiresGrad ? dx : null,
      weight?.requiresGrad ? row(sums, 1) : null,
      bias?.requiresGrad ? row(sums, 0) : null,
      residual?.requiresGrad ? dres : null,
    ];
  });
  stats.dispose();
  return out;
}

/** PyTorch `F.batch_norm` on NCHW x [N, C, ...] (a residual, if given, is NCHW too). */
export function batchNorm2d(
  x: Tensor,
  weight: Tensor | undefined,
  bias: Tensor | undefined,
  opts: BatchNormOptions,
): Tensor {
  if (x.rank !== 4) throw new Error(`batch_norm2d: input must be 4-D NCHW, got [${x.shape}]`);
  const xl = permute(x, [0, 2, 3, 1]);
  const rl = opts.residual && permute(opts.residual, [0, 2, 3, 1]);
  const yl = batchNormNhwc(xl, weight, bias, { ...opts, residual: rl });
  const y = permute(yl, [0, 3, 1, 2]);
  for (const t of [xl, rl, yl]) t?.dispose();
  return y;
}
