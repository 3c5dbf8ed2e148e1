/**
 * indexSelect (gather) and scatterAdd (deterministic), each the other's backward. indexSelect
 * copies any 32-bit dtype; scatterAdd sums f32.
 */
import { engine } from "../context.ts";
import { alias, empty, type Tensor } from "../tensor.ts";
import { record } from "../autograd.ts";
import { MIN_BLOCK } from "../../kernels/index/narrow.ts";
import { gatherElementsSpec, gatherRowsSpec } from "../../kernels/index/gather.ts";
import { scatterLinksSpec, scatterSumSpec } from "../../kernels/index/scatter_add.ts";
import { zeros } from "./elementwise.ts";
import { grid1d } from "./grid.ts";
import { resolveAxis, split, words } from "./axes.ts";

const WG = 256;

function checkIndex(name: string, index: Tensor): void {
  if (index.dtype !== "i32" || index.rank !== 1) {
    throw new Error(`${name}: index must be i32 [K], got ${index.dtype}[${index.shape}]`);
  }
}

function indexSelectRaw(x: Tensor, axis: number, index: Tensor): Tensor {
  const { outer, cols, inner } = split(x.shape, axis);
  const shape = [...x.shape];
  shape[axis] = index.size;
  const out = empty(shape, x.dtype);
  const rows = outer * index.size;
  const byRow = inner >= MIN_BLOCK;
  const flat = grid1d(out.size, WG);
  const groupsX = byRow ? Math.min(Math.ceil(inner / WG), 65535) : flat.groupsX;
  const groupsY = Math.max(1, Math.min(rows, 65535));
  engine().dispatch(byRow ? gatherRowsSpec : gatherElementsSpec, {
    buffers: { x: x.buffer, index: index.buffer, out: out.buffer },
    uniforms: {
      n: out.size,
      len: index.size,
      inner,
      cols,
      groups_x: groupsX,
      groups_y: groupsY,
      _p0: 0,
      _p1: 0,
    },
    overrides: { WG },
    workgroups: byRow ? [groupsX, groupsY, Math.ceil(rows / groupsY)] : flat.workgroups,
    label: "index_select",
  });
  return out;
}

/** base + src scattered along `axis` at `index`, summed in index order (bit-reproducible). */
function scatterAddRaw(base: Tensor, axis: number, index: Tensor, src: Tensor): Tensor {
  const { outer, cols, inner } = split(base.shape, axis);
  const k = index.size;
  const out = empty(base.shape);
  engine().stream.copy(base.buffer, 0, out.buffer, 0, base.byteLength);
  const chain = empty([2 * k], "u32");
  const uniforms = { len: k, inner, cols, _p0: 0, _p1: 0, _p2: 0 };
  const links = grid1d(k, WG);
  engine().dispatch(scatterLinksSpec, {
    buffers: { index: index.buffer, src: engine().dummy, chain: chain.buffer, out: out.buffer },
    uniforms: { ...uniforms, n: k, groups_x: links.groupsX },
    overrides: { WG },
    workgroups: links.workgroups,
    label: "scatter_links",
  });
  const n = outer * k * inner;
  const sum = grid1d(n, WG);
  engine().dispatch(scatterSumSpec, {
    buffers: { index: index.buffer, src: src.buffer, chain: chain.buffer, out: out.buffer },
    uniforms: { ...uniforms, n, groups_x: sum.groupsX },
    overrides: { WG },
    workgroups: sum.workgroups,
    label: "scatter_add",
  });
  chain.dispose();
  return out;
}

/**
 * x's entries at `index` (i32 [K]) along `axis`, as torch.index_select. An index outside the
 * axis gives zeros (the GPU cannot throw). Backward: a deterministic scatter-add.
 */
export function indexSelect(x: Tensor, axis: number, index: Tensor): Tensor {
  words("indexSelect", x);
  checkIndex("indexSelect", index);
  const a = resolveAxis("indexSelect", axis, x.rank);
  const out = indexSelectRaw(x, a, index);
  return record("index_select", [x], out, [index], (g) => {
    const z = zeros(x.shape);
    const dx = scatterAddRaw(z, a, index, g);
    z.dispose();
    return [dx];
  });
}

/**
 * base with src added at `index` along `axis` (torch.index_add): src has base's shape with
 * the axis of length K. Sums per destination in index order: bit-reproducible. Indices outside
 * the axis are ignored. f32. Finding each index's next duplicate costs O(K²) comparisons in
 * total (K threads), which is fine for K up to ~10⁴.
 */
export function scatterAdd(base: Tensor, axis: number, index: Tensor, src: Tensor): Tensor {
  checkIndex("scatterAdd", index);
  if (base.dtype !== "f32" || src.dtype !== "f32") throw new Error("scatterAdd: expects f32");
  const a = resolveAxis("scatterAdd", axis, base.rank);
  const ok = src.rank === base.rank && src.shape[a] === index.size &&
    src.shape.every((d, i) => i === a || d === base.shape[i]);
  if (!ok) {
    throw new Error(
      `scatterAdd: src [${src.shape}] must be base [${base.shape}] with axis ${axis} of ` +
        `length ${index.size}`,
    );
  }
  const out = scatterAddRaw(base, a, index, src);
  return record("scatter_add", [base, src], out, [index], (g) => [
    base.requiresGrad ? alias(g) : null,
    src.requiresGrad ? indexSelectRaw(g, a, index) : null,
  ]);
}
