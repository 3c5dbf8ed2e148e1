/** The gradient through an activation fused into a GEMM or convolution epilogue. No autograd. */
import { engine } from "../context.ts";
import { empty, type Tensor } from "../tensor.ts";
import { activationGradSpec } from "../../kernels/gemm/activation_grad.ts";
import { type Activation, ACTIVATIONS } from "../../kernels/gemm/gemm.ts";
import { grid1d } from "./grid.ts";

/** g · act'(x): x is the output for relu/relu6, the pre-activation for gelu/quick_gelu. */
export function activationGradRaw(act: Activation, g: Tensor, x: Tensor): Tensor {
  if (act === "none") throw new Error("activationGradRaw: no activation");
  const out = empty(g.shape);
  const { workgroups, groupsX } = grid1d(out.size, 256);
  engine().dispatch(activationGradSpec, {
    buffers: { g: g.buffer, x: x.buffer, out: out.buffer },
    uniforms: { n: out.size, groups_x: groupsX, _p0: 0, _p1: 0 },
    overrides: { ACT: ACTIVATIONS[act], WG: 256 },
    workgroups,
    label: `${act}_grad`,
  });
  return out;
}
