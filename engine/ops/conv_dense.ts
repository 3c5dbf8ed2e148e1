/**
 * Dense (and grouped) convolution kernels on channels-last tensors: forward, input gradient
 * (the same implicit-GEMM kernel, transposed) and weight gradient. No autograd.
 */
import { engine } from "../context.ts";
import { empty, type Tensor } from "../tensor.ts";
import {
  conv2dSpec,
  conv2dWeightGradSpec,
  CONV_TM,
  CONV_TN,
  WEIGHT_GRAD_TM,
} from "../../kernels/conv/conv2d.ts";
import { CONV_LANES, type ConvGeometry, MAX_GROUPS, round4 } from "./conv_geometry.ts";
import { biasActRaw, type ConvEpilogue } from "./conv_epilogue.ts";

interface ConvDispatch {
  src: Tensor;
  /** PyTorch layout [Cout, Cin/groups, KH, KW], read in place. */
  w: Tensor;
  dstShape: number[]; // [N, DH, DW, DC]
  srcHwc: [number, number, number];
  redC: number;
  laneC: number;
  g: ConvGeometry;
  transposed: boolean;
}

function convDispatch(d: ConvDispatch): Tensor {
  const out = empty(d.dstShape);
  const [n, dh, dw, dc] = d.dstShape;
  const pixels = n * dh * dw;
  const wg = CONV_LANES;
  const gx = Math.ceil(d.laneC / (wg * 4 * CONV_TN));
  const taps = d.g.kh * d.g.kw;
  const rcFwd = d.g.cin / d.g.groups;
  // Forward: lanes on Cout, reduction on Cin; transposed: the other way round.
  const [wLane, wRed] = d.transposed ? [taps, rcFwd * taps] : [rcFwd * taps, taps];
  const chunk = MAX_GROUPS * CONV_TM;
  for (let base = 0; base < pixels; base += chunk) {
    engine().dispatch(conv2dSpec, {
      buffers: { src: d.src.buffer, w: d.w.buffer, dst: out.buffer },
      uniforms: {
        src_h: d.srcHwc[0],
        src_w: d.srcHwc[1],
        src_c: d.srcHwc[2],
        dst_h: dh,
        dst_w: dw,
        dst_c: dc,
        red_c: d.redC,
        lane_c: d.laneC,
        kh: d.g.kh,
        kw: d.g.kw,
        pixels,
        stride: d.g.stride,
        pad: d.g.pad,
        dil: d.g.dil,
        pixel_base: base,
        batch: n,
        w_group: (d.g.cout / d.g.groups) * rcFwd * taps,
        w_lane: wLane,
        w_red: wRed,
        _p0: 0,
      },
      overrides: { WG: wg, TRANSPOSED: +d.transposed },
      workgroups: [gx, Math.ceil(Math.min(chunk, pixels - base) / CONV_TM), d.g.groups],
      label: d.transposed ? "conv2d_input_grad" : "conv2d",
    });
  }
  return out;
}

/** Forward convolution without autograd: x [N, H, W, Cin] → [N, OH, OW, Cout]. */
export function conv2dNhwcRaw(
  x: Tensor,
  weight: Tensor,
  g: ConvGeometry,
  epilogue: ConvEpilogue = {},
): Tensor {
  const out = convDispatch({
    src: x,
    w: weight,
    dstShape: [g.n, g.oh, g.ow, g.cout],
    srcHwc: [g.h, g.w, g.cin],
    redC: g.cin / g.groups,
    laneC: g.cout / g.groups,
    g,
    transposed: false,
  });
  if (!epilogue.bias && !epilogue.residual && (epilogue.act ?? "none") === "none") return out;
  const y = biasActRaw(out, epilogue);
  out.dispose();
  return y;
}

/** d loss / d input of a convolution: dy [N, OH, OW, Cout] → [N, H, W, Cin]. */
export function conv2dInputGradRaw(dy: Tensor, weight: Tensor, g: ConvGeometry): Tensor {
  return convDispatch({
    src: dy,
    w: weight,
    dstShape: [g.n, g.h, g.w, g.cin],
    srcHwc: [g.oh, g.ow, g.cout],
    redC: g.cout / g.groups,
    laneC: g.cin / g.groups,
    g,
    transposed: true,
  });
}

/** d loss / d weight: x [N, H, W, Cin], dy [N, OH, OW, Cout] → [Cout, Cin/groups, KH, KW]. */
export function conv2dWeightGradRaw(x: Tensor, dy: Tensor, g: ConvGeometry): Tensor {
  const rc = g.cin / g.groups, lc = g.cout / g.groups;
  const dw = empty([g.cout, rc, g.kh, g.kw]);
  const wg = CONV_LANES;
  const rBlocks = Math.ceil(rc / WEIGHT_GRAD_TM);
  const taps = g.kh * g.kw;
  // Few reduction channels (a 3-channel stem): rows over (tap, channel) pairs, none idle.
  const flat = rc < WEIGHT_GRAD_TM / 2 && taps > 1;
  const rowBlocks = flat ? Math.ceil((taps * rc) / WEIGHT_GRAD_TM) : taps * rBlocks;
  engine().dispatch(conv2dWeightGradSpec, {
    buffers: { src: x.buffer, dy: dy.buffer, dw: dw.buffer },
    uniforms: {
      src_h: g.h,
      src_w: g.w,
      src_c: g.cin,
      dst_h: g.oh,
      dst_w: g.ow,
      dst_c: g.cout,
      red_c: rc,
      lane_c: lc,
      kh: g.kh,
      kw: g.kw,
      batch: g.n,
      r_blocks: rBlocks,
      stride: g.stride,
      pad: g.pad,
      dil: g.dil,
      k_rows: taps * rc,
      _p0: 0,
    },
    overrides: { WG: wg, FLAT_ROWS: +flat },
    workgroups: [Math.ceil(round4(lc) / (wg * 4 * CONV_TN)), rowBlocks, g.groups],
    label: "conv2d_weight_grad",
  });
  return dw;
}
