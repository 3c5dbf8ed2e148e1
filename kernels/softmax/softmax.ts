/**
 * The softmax family's row kernels (softmax.wgsl; the losses' vec4 variants for C a multiple of
 * 4 in loss_vec4_*.wgsl; each after the shared row_lse.wgsl): specs, and float64 references
 * for softmax, log-softmax, cross-entropy and the KD loss.
 */
import { wgsl } from "../spec.ts";
import { logSumExp, type RowKernel, rowKernel } from "./row_reduce.ts";

const prelude = wgsl("./row_lse.wgsl", import.meta.url);
const source = prelude + wgsl("./softmax.wgsl", import.meta.url);
const forward4 = prelude + wgsl("./loss_vec4_forward.wgsl", import.meta.url);
const backward4 = prelude + wgsl("./loss_vec4_backward.wgsl", import.meta.url);
const bindings = ["s", "t", "labels", "g", "stats", "out", "params"];

function entry(name: string, from = source, suffix = ""): RowKernel {
  return rowKernel({ name: name + suffix, source: from, entryPoint: name, bindings });
}

export const softmaxForward = entry("softmax_forward");
export const softmaxBackward = entry("softmax_backward");
export const crossEntropyForward = entry("ce_forward");
export const crossEntropyBackward = entry("ce_backward");
export const kdForward = entry("kd_forward");
export const kdBackward = entry("kd_backward");
export const batchMean = entry("batch_mean");

/** The losses reading rows as vec4, for C a multiple of 4 (`vec4Loss` says when they run). */
export const crossEntropyForward4 = entry("ce_forward", forward4, "_vec4");
export const crossEntropyBackward4 = entry("ce_backward", backward4, "_vec4");
export const kdForward4 = entry("kd_forward", forward4, "_vec4");
export const kdBackward4 = entry("kd_backward", backward4, "_vec4");

/** Whether the losses on [B, C] logits run their vec4 variants (the engine's `rowVec4`). */
export function vec4Loss(c: number, allowed: boolean): boolean {
  return allowed && c % 4 === 0;
}

export const SOFTMAX_OPS = { softmax: 0, log_softmax: 1 } as const;
export type SoftmaxOp = keyof typeof SOFTMAX_OPS;

/** A tensor as rows along `axis`: `rows` rows of `cols` elements, `inner` apart. */
export function rowGeometry(shape: readonly number[], axis: number) {
  const a = axis < 0 ? axis + shape.length : axis;
  if (!Number.isInteger(a) || a < 0 || a >= shape.length) {
    throw new Error(`axis ${axis} out of range for [${shape}]`);
  }
  const cols = shape[a];
  const inner = shape.slice(a + 1).reduce((p, d) => p * d, 1);
  const outer = shape.slice(0, a).reduce((p, d) => p * d, 1);
  return { axis: a, rows: outer * inner, cols, inner, outer };
}

/** Calls `fn` with each row's element indices (float64 references). */
export function forEachRow(
  shape: readonly number[],
  axis: number,
  fn: (idx: number[]) => void,
): void {
  const { outer, cols, inner } = rowGeometry(shape, axis);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      fn(Array.from({ length: cols }, (_, k) => (o * cols + k) * inner + i));
    }
  }
}

export function softmaxReference(
  op: SoftmaxOp,
  x: ArrayLike<number>,
  shape: readonly number[],
  axis = -1,
): Float64Array {
  const out = new Float64Array(x.length);
  forEachRow(shape, axis, (idx) => {
    const lse = logSumExp(idx.map((i) => x[i]));
    for (const i of idx) out[i] = op === "softmax" ? Math.exp(x[i] - lse) : x[i] - lse;
  });
  return out;
}

/** Mean cross-entropy of logits [b, c] (row-major) against integer labels. */
export function crossEntropyReference(
  logits: ArrayLike<number>,
  labels: ArrayLike<number>,
  b: number,
  c: number,
): number {
  let sum = 0;
  for (let r = 0; r < b; r++) {
    const row = Array.from({ length: c }, (_, k) => logits[r * c + k]);
    sum += logSumExp(row) - row[labels[r]];
  }
  return sum / b;
}

/** T²·KL(softmax(t/T) ‖ softmax(s/T)) averaged over the batch; 0·log 0 counts 0. */
export function kdReference(
  student: ArrayLike<number>,
  teacher: ArrayLike<number>,
  b: number,
  c: number,
  temperature: number,
): number {
  let sum = 0;
  for (let r = 0; r < b; r++) {
    const sr = Array.from({ length: c }, (_, k) => student[r * c + k] / temperature);
    const tr = Array.from({ length: c }, (_, k) => teacher[r * c + k] / temperature);
    const ls = logSumExp(sr), lt = logSumExp(tr);
    for (let k = 0; k < c; k++) {
      const logPt = tr[k] - lt;
      if (logPt === -Infinity) continue;
      sum += Math.exp(logPt) * (logPt - (sr[k] - ls));
    }
  }
  return (temperature * temperature * sum) / b;
}
