/** All differentiable ops, re-exported for models and tests. */
export * from "./elementwise.ts";
export * from "./reduce.ts";
export * from "./shape.ts";
export { backward } from "./backward.ts";
export * from "./embedding.ts";
export * from "./matmul.ts";
export * from "./softmax.ts";
export * from "./index.ts";
export * from "./norm.ts";
export * from "./cast.ts";
export * from "./attention.ts";
export * from "./conv.ts";
export * from "./batch_norm.ts";
export * from "./pool.ts";
export * from "./random.ts";
