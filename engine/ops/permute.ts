/** permute and transpose: dims reordered into a contiguous copy. Any 32-bit dtype. */
import { engine } from "../context.ts";
import { empty, type Tensor } from "../tensor.ts";
import { record } from "../autograd.ts";
import {
  checkPerm,
  MAX_PERMUTE_RANK,
  permuteRun,
  permuteSpec,
  simplifyPermute,
} from "../../kernels/index/permute.ts";
import { contiguousStrides } from "../../kernels/reduce/reduce.ts";
import { grid1d } from "./grid.ts";
import { resolveAxis, words } from "./axes.ts";

const WG = 256;

function permuteRaw(x: Tensor, perm: number[]): Tensor {
  const out = empty(perm.map((d) => x.shape[d]), x.dtype);
  const simple = simplifyPermute(x.shape, perm);
  if (simple.perm.length === 0) simple.perm.push(0), simple.shape.push(1);
  const strides = contiguousStrides(simple.shape);
  const pad = (v: number[]) => [...v, ...new Array(MAX_PERMUTE_RANK - v.length).fill(1)];
  const run = permuteRun(engine().gpu.adapter.isFallback, engine().kernels.permuteRun);
  const { workgroups, groupsX } = grid1d(Math.ceil(out.size / run), WG);
  engine().dispatch(permuteSpec, {
    buffers: { x: x.buffer, out: out.buffer },
    uniforms: {
      n: out.size,
      rank: simple.perm.length,
      groups_x: groupsX,
      _pad: 0,
      shape: pad(simple.perm.map((d) => simple.shape[d])),
      strides: pad(simple.perm.map((d) => strides[d])),
    },
    overrides: { WG, RUN: run },
    workgroups,
    label: "permute",
  });
  return out;
}

/** Dims reordered as `perm` (output dim d is input dim perm[d]), copied contiguous. */
export function permute(x: Tensor, perm: number[]): Tensor {
  words("permute", x);
  const p = checkPerm(perm, x.rank);
  if (x.rank > MAX_PERMUTE_RANK) throw new Error(`permute: rank ${x.rank} > ${MAX_PERMUTE_RANK}`);
  const inverse = new Array<number>(p.length);
  p.forEach((d, i) => (inverse[d] = i));
  return record("permute", [x], permuteRaw(x, p), [], (g) => [permuteRaw(g, inverse)]);
}

export function transpose(x: Tensor, dim0: number, dim1: number): Tensor {
  const a = resolveAxis("transpose", dim0, x.rank), b = resolveAxis("transpose", dim1, x.rank);
  const perm = x.shape.map((_, i) => (i === a ? b : i === b ? a : i));
  return permute(x, perm);
}
