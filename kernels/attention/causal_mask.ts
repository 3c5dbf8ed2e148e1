/** The additive causal attention mask: spec and reference. */
import { type KernelSpec, wgsl } from "../spec.ts";

export const causalMaskSpec: KernelSpec = {
  name: "causal_mask",
  source: wgsl("./causal_mask.wgsl", import.meta.url),
  bindings: ["mask", "params"],
};

/** [L, S] row-major: 0 for key j <= query i, −inf otherwise. */
export function causalMaskReference(queries: number, keys: number): Float64Array {
  const out = new Float64Array(queries * keys);
  for (let i = 0; i < queries; i++) {
    for (let j = i + 1; j < keys; j++) out[i * keys + j] = -Infinity;
  }
  return out;
}
