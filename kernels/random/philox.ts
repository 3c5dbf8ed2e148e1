/**
 * Philox4x32-10 blocks on the GPU: spec. Its CPU twin, the tests' reference, is `philox4x32`
 * (engine/rng.ts).
 */
import { type KernelSpec, wgsl } from "../spec.ts";

export const philoxBlocksSpec: KernelSpec = {
  name: "philox_blocks",
  source: wgsl("./philox.wgsl", import.meta.url),
  entryPoint: "philox_blocks",
  bindings: ["out", "params"],
};
