/** Backward of the GEMM's fused activation: dz = g · act'(z). */
import { type KernelSpec, wgsl } from "../spec.ts";
import type { Activation } from "./gemm.ts";
import { erf } from "../erf.ts";

export const activationGradSpec: KernelSpec = {
  name: "gemm_activation_grad",
  source: wgsl("./activation_grad.wgsl", import.meta.url),
  bindings: ["g", "x", "out", "params"],
};

/**
 * act'(v) in float64, where v is the output for relu/relu6 and the pre-activation for
 * gelu/quick_gelu (as the kernel reads it).
 */
export function activationGradReference(act: Activation): (v: number) => number {
  switch (act) {
    case "relu":
      return (v) => +(v > 0);
    case "relu6":
      return (v) => +(v > 0 && v < 6);
    case "gelu":
      return (v) =>
        0.5 * (1 + erf(v / Math.SQRT2)) + (v * Math.exp(-0.5 * v * v)) / Math.sqrt(2 * Math.PI);
    case "quick_gelu":
      return (v) => {
        const s = 1 / (1 + Math.exp(-1.702 * v));
        return s + 1.702 * v * s * (1 - s);
      };
    case "none":
      return () => 1;
  }
}
