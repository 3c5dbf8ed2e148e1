/**
 * `cast(x, dtype)`: f32 ↔ i32 ↔ u32, u8 → f32/i32/u32 (values as they are, 0..255: no ÷255),
 * f16 ↔ f32 (f16 is storage only, packed two to a word, so no shader-f16 is needed).
 * Float → integer truncates toward zero and saturates at the largest float below the limit
 * (2^31 − 128 for i32; torch's out-of-range result is undefined).
 * i32 ↔ u32 keeps the bits. Only f32 → f32 is differentiable (a copy).
 */
import { engine } from "../context.ts";
import { type DType, empty, type Tensor } from "../tensor.ts";
import { record } from "../autograd.ts";
import { CAST_MODES, castSpec } from "../../kernels/index/cast.ts";
import { grid1d } from "./grid.ts";

const WG = 256;

function copy(x: Tensor): Tensor {
  const out = empty(x.shape, x.dtype);
  engine().stream.copy(x.buffer, 0, out.buffer, 0, x.byteLength);
  return out;
}

export function cast(x: Tensor, dtype: DType): Tensor {
  if (x.dtype === dtype) {
    return record("cast", [x], copy(x), [], (g) => [copy(g)]);
  }
  const mode = CAST_MODES[`${x.dtype}>${dtype}`];
  if (mode === undefined) throw new Error(`cast: ${x.dtype} to ${dtype} is not supported`);
  const out = empty(x.shape, dtype);
  const threads = dtype === "f16" ? Math.ceil(x.size / 2) : x.size;
  const { workgroups, groupsX } = grid1d(threads, WG);
  engine().dispatch(castSpec, {
    buffers: { x: x.buffer, out: out.buffer },
    uniforms: { n: x.size, groups_x: groupsX, _p0: 0, _p1: 0 },
    overrides: { MODE: mode, WG },
    workgroups,
    label: `cast_${x.dtype}_${dtype}`,
  });
  return out;
}
