/** Permute (transpose) into a contiguous copy: spec and reference. */
import { type KernelSpec, wgsl } from "../spec.ts";
import { contiguousStrides } from "../reduce/reduce.ts";

export const permuteSpec: KernelSpec = {
  name: "permute",
  source: wgsl("./permute.wgsl", import.meta.url),
  bindings: ["x", "out", "params"],
};

export const MAX_PERMUTE_RANK = 8;

/** Checks `perm` against a rank and returns it with negative dims resolved. */
export function checkPerm(perm: readonly number[], rank: number): number[] {
  const p = perm.map((d) => (d < 0 ? d + rank : d));
  const seen = new Set(p);
  if (p.length !== rank || seen.size !== rank || p.some((d) => !(d >= 0 && d < rank))) {
    throw new Error(`permute: [${perm}] is not a permutation of ${rank} dims`);
  }
  return p;
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
