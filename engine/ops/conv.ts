/**
 * 2-D convolution as differentiable ops. The kernels work on channels-last tensors
 * [N, H, W, C] (`conv2dNhwc`, what the models use); `conv2d` takes NCHW like PyTorch and
 * permutes around them. Weights keep PyTorch's layout [Cout, Cin/groups, KH, KW], read in place.
 */
import { alias, type Tensor } from "../tensor.ts";
import { needsGrad, record } from "../autograd.ts";
import { type Conv2dOptions, convGeometry, isDepthwise } from "./conv_geometry.ts";
import { channelSumRaw } from "./conv_epilogue.ts";
import { activationGradRaw } from "./activation_grad.ts";
import { conv2dInputGradRaw, conv2dNhwcRaw, conv2dWeightGradRaw } from "./conv_dense.ts";
import {
  depthwiseInputGradRaw,
  depthwiseNhwcRaw,
  depthwiseWeightGradRaw,
} from "./conv_depthwise.ts";
import { permute } from "./permute.ts";

/**
 * Convolution of a channels-last input: x [N, H, W, Cin], weight [Cout, Cin/groups, KH, KW]
 * (PyTorch layout) → [N, OH, OW, Cout], with optional fused bias, residual and relu/relu6.
 * Differentiable in x, weight, bias and residual.
 */
export function conv2dNhwc(x: Tensor, weight: Tensor, opts: Conv2dOptions = {}): Tensor {
  const g = convGeometry(x.shape, weight.shape, opts);
  const { bias, residual } = opts;
  const act = opts.activation ?? "none";
  if (bias && (bias.rank !== 1 || bias.size !== g.cout)) {
    throw new Error(`conv2d: bias [${bias.shape}] must be [${g.cout}]`);
  }
  const outShape = [g.n, g.oh, g.ow, g.cout];
  if (residual && residual.shape.join() !== outShape.join()) {
    throw new Error(`conv2d: residual [${residual.shape}] must be the output shape [${outShape}]`);
  }
  for (const t of [x, weight, bias, residual]) {
    if (t && t.dtype !== "f32") throw new Error(`conv2d: expects f32 tensors, got ${t.dtype}`);
  }
  const depthwise = isDepthwise(g);
  const out = depthwise
    ? depthwiseNhwcRaw(x, weight, g, { bias, residual, act })
    : conv2dNhwcRaw(x, weight, g, { bias, residual, act });
  if (!needsGrad([x, weight, bias, residual])) return out;
  return record(depthwise ? "depthwise_conv2d" : "conv2d", [x, weight, bias, residual], out, [
    x,
    weight,
    ...(act === "none" ? [] : [out]),
  ], (grad) => {
    const gz = act === "none" ? grad : activationGradRaw(act, grad, out);
    const inputGrad = depthwise ? depthwiseInputGradRaw : conv2dInputGradRaw;
    const weightGrad = depthwise ? depthwiseWeightGradRaw : conv2dWeightGradRaw;
    return [
      x.requiresGrad ? inputGrad(gz, weight, g) : null,
      weight.requiresGrad ? weightGrad(x, gz, g) : null,
      bias?.requiresGrad ? channelSumRaw(gz) : null,
      residual?.requiresGrad ? (act === "none" ? alias(gz) : gz) : null,
    ];
  });
}

const TO_NHWC = [0, 2, 3, 1];
const TO_NCHW = [0, 3, 1, 2];

/**
 * PyTorch `F.conv2d`: x [N, Cin, H, W], weight [Cout, Cin/groups, KH, KW], bias [Cout]
 * → [N, Cout, OH, OW]. (A residual, if given, is NCHW too.)
 */
export function conv2d(
  x: Tensor,
  weight: Tensor,
  bias?: Tensor,
  opts: Omit<Conv2dOptions, "bias"> = {},
): Tensor {
  if (x.rank !== 4) throw new Error(`conv2d: input must be 4-D NCHW, got [${x.shape}]`);
  const xl = permute(x, TO_NHWC);
  const rl = opts.residual && permute(opts.residual, TO_NHWC);
  const yl = conv2dNhwc(xl, weight, { ...opts, bias, residual: rl });
  const y = permute(yl, TO_NCHW);
  for (const t of [xl, rl, yl]) t?.dispose();
  return y;
}
