/** All differentiable ops, re-exported for models and tests. */
export * from "./elementwise.ts";
export * from "./reduce.ts";
export * from "./shape.ts";
export { backward } from "./backward.ts";
export * from "./embedding.ts";
export * from "./matmul.ts";
export * from "./softmax.ts";
export * from "./permute.ts";
export * from "./narrow.ts";
export * from "./gather.ts";
export * from "./iota.ts";
export * from "./argmax.ts";
export * from "./norm.ts";
export * from "./cast.ts";
export * from "./attention.ts";
export {
  type Conv2dOptions,
  CONV_ACTIVATIONS,
  type ConvActivation,
  type ConvGeometry,
  convGeometry,
  isDepthwise,
  type Pair,
} from "./conv_geometry.ts";
export * from "./activation_grad.ts";
export * from "./conv_epilogue.ts";
export * from "./conv_dense.ts";
export * from "./conv_depthwise.ts";
export * from "./conv.ts";
export * from "./batch_norm.ts";
export * from "./pool.ts";
export * from "./random.ts";
