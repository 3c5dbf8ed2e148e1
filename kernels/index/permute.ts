/** Permute (transpose) into a contiguous copy: spec and reference. */
import { type KernelSpec, wgsl } from "../spec.ts";
import { contiguousStrides } from "../reduce/reduce.ts";

export const permuteSpec: KernelSpec = {
  name: "permute",
  source: wgsl("./permute.wgsl", import.meta.url),
  bindings: ["x", "out", "params"],
};

export const MAX_PERMUTE_RANK = 8;

/**
 * Outputs per invocation: 16 on CPU adapters (no division per element; measured ~1.5–2× on
 * llvmpipe), 1 on GPUs (neighbouring invocations write neighbouring words); `forced`: the
 * engine's choice, if set.
 */
export function permuteRun(cpu: boolean, forced?: number): number {
  return forced ?? (cpu ? 16 : 1);
}

/** Checks `perm` against a rank and returns it with negative dims resolved. */
export function checkPerm(perm: readonly number[], rank: number): number[] {
  const p = perm.map((d) => (d < 0 ? d + rank : d));
  const seen = new Set(p);
  if (p.length !== rank || seen.size !== rank || p.some((d) => !(d >= 0 && d < rank))) {
    throw new Error(`permute: [${perm}] is not a permutation of ${rank} dims`);
  }
  return p;
}

/**
 * The same permutation on fewer dims: size-1 dims dropped, and input dims that stay adjacent
 * and in order merged (NCHW → NHWC is [N, C, HW] → [N, HW, C]). Returns the input's shape and
 * the permutation over the merged dims.
 */
export function simplifyPermute(
  shape: readonly number[],
  perm: readonly number[],
): { shape: number[]; perm: number[] } {
  const kept = perm.filter((d) => shape[d] !== 1);
  // Groups of output-consecutive dims that are input-consecutive.
  const groups: number[][] = [];
  for (const d of kept) {
    const g = groups.at(-1);
    if (g && g[g.length - 1] + 1 === d) g.push(d);
    else groups.push([d]);
  }
  // Number the groups by their position in the input.
  const order = [...groups].sort((a, b) => a[0] - b[0]);
  return {
    shape: order.map((g) => g.reduce((p, d) => p * shape[d], 1)),
    perm: groups.map((g) => order.indexOf(g)),
  };
}

export function permuteReference(
  x: ArrayLike<number>,
  shape: readonly number[],
  perm: readonly number[],
): number[] {
  const strides = contiguousStrides(shape);
  const outShape = perm.map((d) => shape[d]);
  const out: number[] = [];
  const n = outShape.reduce((a, b) => a * b, 1);
  for (let i = 0; i < n; i++) {
    let rem = i, src = 0;
    for (let d = outShape.length - 1; d >= 0; d--) {
      src += (rem % outShape[d]) * strides[perm[d]];
      rem = Math.floor(rem / outShape[d]);
    }
    out.push(x[src]);
  }
  return out;
}
