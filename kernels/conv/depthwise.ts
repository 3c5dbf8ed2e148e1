/** Depthwise convolution kernels (channels-last): specs. */
import { type KernelSpec, wgsl } from "../spec.ts";

export const depthwiseSpec: KernelSpec = {
  name: "depthwise_conv2d",
  source: wgsl("./depthwise.wgsl", import.meta.url),
  bindings: ["src", "w", "bias", "residual", "dst", "params"],
};

export const depthwiseWeightGradSpec: KernelSpec = {
  name: "depthwise_conv2d_weight_grad",
  source: wgsl("./depthwise_weight_grad.wgsl", import.meta.url),
  bindings: ["x", "dy", "partial", "params"],
};

/** Destination pixels per workgroup (the WGSL const TM). */
export const DEPTHWISE_TM = 4;
