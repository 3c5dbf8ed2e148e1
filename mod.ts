/** activekd's public library API (re-exports only). */
export { closeEngine, type Engine, engine, initEngine, useEngine } from "./engine/context.ts";
export { acquireGpu, type Backend, type BackendChoice, type Gpu } from "./engine/device.ts";
export { GpuError, InputError } from "./engine/errors.ts";
export {
  alias,
  type DType,
  empty,
  keep,
  scope,
  scopeAsync,
  Tensor,
  tensor,
} from "./engine/tensor.ts";
export { isGradEnabled, noGrad, noGradAsync, record, requireGrad } from "./engine/autograd.ts";
export * as ops from "./engine/ops/mod.ts";
export {
  loadSafetensors,
  readSafetensors,
  saveSafetensors,
  writeSafetensors,
} from "./engine/safetensors.ts";
export { Rng } from "./engine/rng.ts";
export { ClipTokenizer } from "./models/clip/tokenizer.ts";
export { openDataset } from "./al/data/open.ts";
export * as nn from "./engine/nn/mod.ts";
export * as optim from "./engine/optim/mod.ts";
export * as strategies from "./al/strategies/mod.ts";
export { CLIP } from "./models/clip/clip.ts";
export { MODEL_NAMES, modelFromStateDict, MODELS } from "./models/registry.ts";
