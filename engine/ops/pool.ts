/**
 * Pooling with PyTorch semantics, forward and backward: max_pool2d (argmax indices kept for the
 * backward), avg_pool2d (count_include_pad, ceil_mode), adaptive_avg_pool2d (global and general).
 * The kernels work on channels-last tensors (`*Nhwc`, what the models use); the NCHW versions
 * permute around them.
 */
import { engine } from "../context.ts";
import { empty, type Tensor } from "../tensor.ts";
import { needsGrad, record } from "../autograd.ts";
import {
  POOL_MODES,
  poolBackwardSpec,
  type PoolMode,
  poolOutputSize,
  poolSpec,
  type PoolWindow,
} from "../../kernels/pool/pool.ts";
import { grid1d } from "./grid.ts";
import { permute } from "./permute.ts";
import type { Pair } from "./conv_geometry.ts";
import { LimitError } from "../errors.ts";

export interface PoolOptions {
  /** Defaults to the kernel size, as PyTorch. */
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  ceilMode?: boolean;
  /** avg_pool2d only (default true). */
  countIncludePad?: boolean;
}

const WG = 64;
const NEG_INF_BITS = 0xff800000;

function pair(name: string, v: Pair, min: number): [number, number] {
  const p: [number, number] = typeof v === "number" ? [v, v] : [v[0], v[1]];
  if (p.some((d) => !Number.isInteger(d) || d < min)) {
    throw new Error(`pool2d: ${name} must be integers >= ${min}, got ${p}`);
  }
  return p;
}

function poolWindow(kernel: Pair, opts: PoolOptions): PoolWindow {
  const k = pair("kernel_size", kernel, 1);
  const w: PoolWindow = {
    kernel: k,
    stride: pair("stride", opts.stride ?? k, 1),
    padding: pair("padding", opts.padding ?? 0, 0),
    dilation: pair("dilation", opts.dilation ?? 1, 1),
    ceilMode: opts.ceilMode ?? false,
    countIncludePad: opts.countIncludePad ?? true,
  };
  if (w.padding.some((p, i) => p > k[i] / 2)) {
    throw new Error(`pool2d: padding ${w.padding} must be at most half the kernel ${k}`);
  }
  return w;
}

interface Geometry {
  n: number;
  h: number;
  w: number;
  c: number;
  oh: number;
  ow: number;
}

function checkInput(name: string, x: Tensor): void {
  if (x.rank !== 4 || x.dtype !== "f32") {
    throw new Error(`${name}: expects an f32 [N, H, W, C] tensor, got ${x.dtype}[${x.shape}]`);
  }
}

/**
 * Dispatches of whole images, each writing fewer than 2^23 elements (the kernels' index
 * arithmetic is exact below 2^24); `perImage` elements are written per image.
 */
function imageChunks(n: number, perImage: number): [number, number][] {
  if (perImage >= 2 ** 23) {
    throw new LimitError(
      `pool2d: ${perImage} output elements per image, past the kernels' 2^23 (exact f32 indexing)`,
    );
  }
  const per = Math.max(1, Math.floor(2 ** 23 / perImage));
  const out: [number, number][] = [];
  for (let base = 0; base < n; base += per) out.push([base, Math.min(per, n - base)]);
  return out;
}

/** One dispatch per image chunk; `perImage` elements are written per image. */
function dispatchImages(
  spec: typeof poolSpec,
  geo: Geometry,
  w: PoolWindow,
  perImage: number,
  mode: PoolMode,
  buffers: Record<string, GPUBuffer>,
  extra: Record<string, number>,
  label: string,
): void {
  for (const [base, count] of imageChunks(geo.n, perImage)) {
    const n = count * perImage;
    const { workgroups, groupsX } = grid1d(n, WG);
    engine().dispatch(spec, {
      buffers,
      uniforms: {
        src_h: geo.h,
        src_w: geo.w,
        dst_h: geo.oh,
        dst_w: geo.ow,
        channels: geo.c,
        kh: w.kernel[0],
        kw: w.kernel[1],
        n,
        groups_x: groupsX,
        img_base: base,
        _p1: 0,
        stride: w.stride,
        pad: w.padding,
        dil: w.dilation,
        ...extra,
      },
      overrides: { WG, MODE: POOL_MODES[mode], COUNT_INCLUDE_PAD: +w.countIncludePad },
      workgroups,
      label,
    });
  }
}

function pool(mode: PoolMode, x: Tensor, geo: Geometry, w: PoolWindow): Tensor {
  const y = empty([geo.n, geo.oh, geo.ow, geo.c]);
  const indices = mode === "max" ? empty(y.shape, "i32") : empty([4], "i32");
  dispatchImages(
    poolSpec,
    geo,
    w,
    geo.oh * geo.ow * geo.c,
    mode,
    { x: x.buffer, y: y.buffer, indices: indices.buffer },
    { neg_inf: NEG_INF_BITS },
    `${mode}_pool2d`,
  );
  if (!needsGrad([x])) {
    indices.dispose();
    return y;
  }
  const out = record(`${mode}_pool2d`, [x], y, [indices], (g) => {
    const dx = empty(x.shape);
    dispatchImages(
      poolBackwardSpec,
      geo,
      w,
      geo.h * geo.w * geo.c,
      mode,
      {
        g: g.buffer,
        indices: mode === "max" ? indices.buffer : engine().dummy,
        dx: dx.buffer,
      },
      { _p0: 0 },
      `${mode}_pool2d_backward`,
    );
    return [dx];
  });
  indices.dispose();
  return out;
}

function windowed(mode: "max" | "avg", x: Tensor, kernel: Pair, opts: PoolOptions): Tensor {
  const name = `${mode}_pool2d`;
  checkInput(name, x);
  const w = poolWindow(kernel, opts);
  if (mode === "avg" && w.dilation.some((d) => d !== 1)) {
    throw new Error("avg_pool2d: dilation is not supported (as in PyTorch)");
  }
  const [n, h, wd, c] = x.shape;
  const oh = poolOutputSize(h, w.kernel[0], w.stride[0], w.padding[0], w.dilation[0], w.ceilMode);
  const ow = poolOutputSize(wd, w.kernel[1], w.stride[1], w.padding[1], w.dilation[1], w.ceilMode);
  if (oh < 1 || ow < 1) throw new Error(`${name}: kernel ${w.kernel} larger than input ${h}x${wd}`);
  return pool(mode, x, { n, h, w: wd, c, oh, ow }, w);
}

/** max_pool2d of channels-last x [N, H, W, C]. */
export function maxPool2dNhwc(x: Tensor, kernel: Pair, opts: PoolOptions = {}): Tensor {
  return windowed("max", x, kernel, opts);
}

/** avg_pool2d of channels-last x [N, H, W, C]. */
export function avgPool2dNhwc(x: Tensor, kernel: Pair, opts: PoolOptions = {}): Tensor {
  return windowed("avg", x, kernel, opts);
}

/** adaptive_avg_pool2d of channels-last x [N, H, W, C] to [N, OH, OW, C]. */
export function adaptiveAvgPool2dNhwc(x: Tensor, outputSize: Pair): Tensor {
  checkInput("adaptive_avg_pool2d", x);
  const [oh, ow] = pair("output_size", outputSize, 1);
  const [n, h, w, c] = x.shape;
  const unit: PoolWindow = {
    kernel: [1, 1],
    stride: [1, 1],
    padding: [0, 0],
    dilation: [1, 1],
    ceilMode: false,
    countIncludePad: true,
  };
  return pool("adaptive_avg", x, { n, h, w, c, oh, ow }, unit);
}

function viaNhwc(x: Tensor, f: (xl: Tensor) => Tensor): Tensor {
  if (x.rank !== 4) throw new Error(`pool2d: input must be 4-D NCHW, got [${x.shape}]`);
  const xl = permute(x, [0, 2, 3, 1]);
  const yl = f(xl);
  const y = permute(yl, [0, 3, 1, 2]);
  xl.dispose();
  yl.dispose();
  return y;
}

/** PyTorch `F.max_pool2d` on NCHW. */
export function maxPool2d(x: Tensor, kernel: Pair, opts: PoolOptions = {}): Tensor {
  return viaNhwc(x, (xl) => maxPool2dNhwc(xl, kernel, opts));
}

/** PyTorch `F.avg_pool2d` on NCHW. */
export function avgPool2d(x: Tensor, kernel: Pair, opts: PoolOptions = {}): Tensor {
  return viaNhwc(x, (xl) => avgPool2dNhwc(xl, kernel, opts));
}

/** PyTorch `F.adaptive_avg_pool2d` on NCHW. */
export function adaptiveAvgPool2d(x: Tensor, outputSize: Pair): Tensor {
  return viaNhwc(x, (xl) => adaptiveAvgPool2dNhwc(xl, outputSize));
}
