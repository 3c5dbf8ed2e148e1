/** Average pooling of channels-last feature maps, as a depthwise convolution. */
import type { Tensor } from "../../engine/tensor.ts";
import { full } from "../../engine/ops/elementwise.ts";
import { conv2dNhwc } from "../../engine/ops/conv.ts";

/**
 * `nn.AvgPool2d(kernel)` (stride = kernel, no padding; a partial last window is dropped) on
 * x [N, H, W, C]: a depthwise convolution whose weights are all 1/(kh·kw).
 */
export function avgPoolNhwc(x: Tensor, kernel: number | readonly [number, number]): Tensor {
  const [kh, kw] = typeof kernel === "number" ? [kernel, kernel] : kernel;
  const c = x.shape[3];
  return conv2dNhwc(x, full([c, 1, kh, kw], 1 / (kh * kw)), { stride: [kh, kw], groups: c });
}
