/**
 * Packing kernels: row-major input to the column-major chunks farthest.wgsl reads, with the
 * row transform of each strategy's space and the input checks; float64 references.
 */
import { type KernelSpec, wgsl } from "../spec.ts";

const source = wgsl("./pack.wgsl", import.meta.url);
const bindings = ["src", "src2", "dst", "flags", "params"];

/** Rows as they are (probability space). */
export const packCopySpec: KernelSpec = {
  name: "pack_copy",
  source,
  bindings,
  entryPoint: "pack_copy",
};
/** The checks alone, on rows written straight into their chunk (pack_copy's layout already). */
export const checkRowsSpec: KernelSpec = {
  name: "check_rows",
  source,
  bindings,
  entryPoint: "check_rows",
};
/** L2-normalised rows. */
export const packUnitSpec: KernelSpec = {
  name: "pack_unit",
  source,
  bindings,
  entryPoint: "pack_unit",
};
/** BADGE's factorised gradient embedding from probabilities and features. */
export const packBadgeSpec: KernelSpec = {
  name: "pack_badge",
  source,
  bindings,
  entryPoint: "pack_badge",
};

/**
 * Flag slots, offsets from a packing's flag_at: the first row (by atomicMin) with NaN/Inf in
 * src, not a probability vector, NaN/Inf in src2; and (pack_badge) the first row with a
 * non-zero gradient embedding, whose normalised norm is 1.
 */
export const FLAG = {
  srcNotFinite: 0,
  notProbability: 1,
  src2NotFinite: 2,
  firstNonZero: 3,
} as const;

/** F.normalize's epsilon. */
export const NORMALIZE_EPS = 1e-12;

/** x / max(||x||, 1e-12) in float64. */
export function unitReference(x: ArrayLike<number>): number[] {
  let n2 = 0;
  for (let i = 0; i < x.length; i++) n2 += x[i] * x[i];
  const den = Math.max(Math.sqrt(n2), NORMALIZE_EPS);
  return Array.from(x, (v) => v / den);
}

/** Index of the first largest entry (torch.argmax's tie rule). */
export function argmaxFirst(x: ArrayLike<number>): number {
  let arg = 0;
  for (let i = 1; i < x.length; i++) if (x[i] > x[arg]) arg = i;
  return arg;
}

/**
 * One packed BADGE row in float64: [a (C) | b (D)] with (a.a')(b.b') = g.g' of the normalised
 * embeddings when `normalise`, else [onehot - p | h | ||g||^2].
 */
export function badgeRowReference(
  p: ArrayLike<number>,
  h: ArrayLike<number>,
  normalise: boolean,
): number[] {
  const arg = argmaxFirst(p);
  const diff = Array.from(p, (v, c) => (c === arg ? 1 : 0) - v);
  const dn = Math.hypot(...diff);
  const hn = Math.hypot(...Array.from(h));
  if (!normalise) return [...diff, ...Array.from(h), dn * dn * hn * hn];
  const sa = hn / Math.max(dn * hn, NORMALIZE_EPS);
  const sb = hn > 0 ? 1 / hn : 0;
  return [...diff.map((d) => d * sa), ...Array.from(h, (v) => v * sb)];
}
