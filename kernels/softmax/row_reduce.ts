/**
 * Row kernels (softmax family, norms) reduce over a workgroup through `wg_sum`, `wg_sum2` and
 * `wg_max`, defined in a block of the kernel file between `// <row-reduce>` and
 * `// </row-reduce>` with workgroup memory only, so each file is valid WGSL on its own and runs
 * everywhere. Where the adapter has `subgroups`, `withSubgroups` derives a variant whose block
 * is replaced by row_reduce_subgroups.wgsl (same functions, same contract). Both fold in a
 * fixed order: results are bit-identical across runs.
 */
import { type KernelSpec, wgsl } from "../spec.ts";

const BEGIN = "// <row-reduce>";
const END = "// </row-reduce>";
const SUBGROUP_BLOCK = wgsl("./row_reduce_subgroups.wgsl", import.meta.url);

/** The subgroup variant of a row kernel (its pipelines are cached under `<name>+subgroups`). */
export function withSubgroups(spec: KernelSpec): KernelSpec {
  const i = spec.source.indexOf(BEGIN);
  const j = spec.source.indexOf(END);
  if (i < 0 || j < i) throw new Error(`kernel ${spec.name}: no ${BEGIN} block`);
  return {
    ...spec,
    name: `${spec.name}+subgroups`,
    source: "enable subgroups;\n" + spec.source.slice(0, i) + SUBGROUP_BLOCK +
      spec.source.slice(j + END.length),
  };
}

/** A row kernel's two variants. */
export interface RowKernel {
  workgroup: KernelSpec;
  subgroups: KernelSpec;
}

export function rowKernel(spec: KernelSpec): RowKernel {
  return { workgroup: spec, subgroups: withSubgroups(spec) };
}

/** The variant to run on a device with these features (`allowSubgroups`: the engine's choice). */
export function rowVariant(
  k: RowKernel,
  features: ReadonlySet<string>,
  allowSubgroups: boolean,
): KernelSpec {
  return allowSubgroups && features.has("subgroups") ? k.subgroups : k.workgroup;
}

/** Workgroups for one workgroup per row (folded past 65,535). */
export function rowGrid(rows: number): { workgroups: [number, number]; groupsX: number } {
  const groupsX = Math.max(1, Math.min(rows, 65535));
  return { workgroups: [groupsX, Math.ceil(rows / groupsX)], groupsX };
}

/**
 * Threads per row. On a GPU: a power of two in [32, 256], about four elements per thread.
 * On a CPU adapter (llvmpipe) a workgroup runs as SIMD chunks of 8 lanes and every barrier
 * switches between chunks, so one chunk per row is fastest (measured: 256 threads are ~20×
 * slower on [4096, 1000]). `forced`: the engine's choice, if set.
 */
export function rowThreads(cols: number, cpu: boolean, forced?: number): number {
  if (forced !== undefined) return forced;
  if (cpu) return 8;
  let wg = 32;
  while (wg < 256 && wg * 4 < cols) wg *= 2;
  return wg;
}

/** Float64 log-sum-exp of a row (the references' building block). */
export function logSumExp(xs: ArrayLike<number>): number {
  let m = -Infinity;
  for (let i = 0; i < xs.length; i++) m = Math.max(m, xs[i]);
  if (m === -Infinity) return -Infinity; // a +inf or NaN element makes z NaN below
  let z = 0;
  for (let i = 0; i < xs.length; i++) z += Math.exp(xs[i] - m);
  return m + Math.log(z);
}
