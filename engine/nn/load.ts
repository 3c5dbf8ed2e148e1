/** Loads a safetensors checkpoint into a module by PyTorch state-dict name. */
import { loadSafetensors } from "../safetensors.ts";
import type { LoadReport, Module } from "./module.ts";

/**
 * Reads `path` and loads it into `module` (see `Module.loadStateDict`; errors name the file).
 * I64 tensors such as BatchNorm's `num_batches_tracked` arrive as i32, so declare those buffers
 * as i32.
 */
export async function loadSafetensorsInto(
  module: Module,
  path: string,
  { strict = true }: { strict?: boolean } = {},
): Promise<LoadReport> {
  const { tensors } = await loadSafetensors(path);
  return module.loadStateDict(tensors, { strict, source: path });
}
