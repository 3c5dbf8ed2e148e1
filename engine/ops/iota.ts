/** Index-generated tensors: arange and oneHot (no gradient). */
import { engine } from "../context.ts";
import { empty, type Tensor } from "../tensor.ts";
import { arangeSpec, oneHotSpec } from "../../kernels/index/iota.ts";
import { grid1d } from "./grid.ts";

const WG = 256;

/** f32 [B, classes] with 1 at each label (i32 [B]); a label outside [0, classes) gives zeros. */
export function oneHot(labels: Tensor, classes: number): Tensor {
  if (labels.dtype !== "i32" || labels.rank !== 1) {
    throw new Error(`oneHot: labels must be i32 [B], got ${labels.dtype}[${labels.shape}]`);
  }
  if (!Number.isInteger(classes) || classes < 1) {
    throw new Error(`oneHot: classes must be a positive integer, got ${classes}`);
  }
  const out = empty([labels.size, classes]);
  const { workgroups, groupsX } = grid1d(out.size, WG);
  engine().dispatch(oneHotSpec, {
    buffers: { labels: labels.buffer, out: out.buffer },
    uniforms: { n: out.size, classes, groups_x: groupsX, _pad: 0 },
    overrides: { WG },
    workgroups,
    label: "one_hot",
  });
  return out;
}

/** [0, 1, …, n − 1] as i32 (default) or f32. */
export function arange(n: number, dtype: "f32" | "i32" = "i32"): Tensor {
  if (!Number.isInteger(n) || n < 0) throw new Error(`arange: n must be a count, got ${n}`);
  const out = empty([n], dtype);
  const { workgroups, groupsX } = grid1d(n, WG);
  engine().dispatch(arangeSpec, {
    buffers: { labels: engine().dummy, out: out.buffer },
    uniforms: { n, classes: 1, groups_x: groupsX, _pad: 0 },
    overrides: { WG, AS_F32: dtype === "f32" ? 1 : 0 },
    workgroups,
    label: "arange",
  });
  return out;
}
