/** argmax and argmin along an axis: one row kernel, i32 results (no gradient). */
import { engine } from "../context.ts";
import { empty, type Tensor } from "../tensor.ts";
import { argmaxSpec } from "../../kernels/reduce/argmax.ts";
import { rowGeometry } from "../../kernels/softmax/softmax.ts";
import { rowGrid, rowThreads } from "../../kernels/softmax/row_reduce.ts";

function argExtreme(op: "argmax" | "argmin", x: Tensor, axis: number): Tensor {
  if (x.dtype !== "f32") throw new Error(`${op}: expects f32, got ${x.dtype}`);
  const { axis: a, rows, cols, inner } = rowGeometry(x.shape, axis);
  if (cols === 0) throw new Error(`${op}: empty axis ${axis} of [${x.shape}]`);
  const out = empty(x.shape.filter((_, i) => i !== a), "i32");
  const { workgroups, groupsX } = rowGrid(rows);
  engine().dispatch(argmaxSpec, {
    buffers: { x: x.buffer, out: out.buffer },
    uniforms: { rows, cols, inner, groups_x: groupsX },
    overrides: {
      MAX: op === "argmax" ? 1 : 0,
      WG: rowThreads(cols, engine().gpu.adapter.isFallback, engine().kernels.rowThreads),
    },
    workgroups,
    label: op,
  });
  return out;
}

/** i32 index of the largest value along `axis` (first on ties; NaN counts as largest). */
export function argmax(x: Tensor, axis = -1): Tensor {
  return argExtreme("argmax", x, axis);
}

/** i32 index of the smallest value along `axis` (first on ties; NaN wins, as torch). */
export function argmin(x: Tensor, axis = -1): Tensor {
  return argExtreme("argmin", x, axis);
}
