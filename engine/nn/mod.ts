/** Neural-network modules with PyTorch state-dict names. */
export { type LoadReport, Module, type StateSource } from "./module.ts";
export { loadSafetensorsInto } from "./load.ts";
export { Linear, type LinearOptions } from "./linear.ts";
export { LayerNorm } from "./layer_norm.ts";
export { Embedding } from "./embedding.ts";
export { MultiheadAttention, type MultiheadAttentionOptions } from "./multihead_attention.ts";
export { normalInit, uniformInit, xavierBound } from "./init.ts";
