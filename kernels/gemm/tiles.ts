/**
 * Per-adapter GEMM kernel choice and tile sizes, chosen by the adapter's description.
 *
 * "direct" (gemm.wgsl): WG_X·WG_Y threads, each 4·TM4 rows × 4·TN4 columns, no workgroup memory.
 * "subgroup" (gemm_subgroup.wgsl): WG_X threads sharing 8 rows, 4 columns each, A broadcast
 * across subgroups of at least 8 lanes.
 * "tiled" (gemm_tiled.wgsl): TM rows × 4 columns per thread, fed from BK-deep slices staged in
 * workgroup memory.
 *
 * Measured at M = N = K = 1024 on llvmpipe (Mesa 25.0.7, LLVM 15, 256-bit, 8 lanes; 2 vCPUs
 * shared with other jobs, load 1.5-2.5, each backend in its own process under the shared CPU
 * lock), wall GFLOP/s of one product and its sync, median of 7 (after 2 warm-ups), variants
 * interleaved within one run; Dawn's poll kept off the CPU while waiting (then by a helper that
 * engine/device.ts's `paceDawnPolling` replaced: the same 1 ms timer, process-wide):
 *
 *   kernel / tiles                                  Dawn              native (wgpu)
 *   subgroup WG_X 16                                25.4, 25.8        - (no subgroups)
 *   subgroup WG_X 32                                25.8, 25.1, 27.2  -
 *   subgroup WG_X 64                                24.0, 24.5, 25.6  -
 *   subgroup WG_X 64, 16 rows × 4 cols per thread   25.8, 25.9        -
 *   subgroup WG_X 64, 8 rows × 8 cols per thread    19.6              -
 *   subgroup WG_X 32, 16 rows × 8 cols per thread   21.4              -
 *   subgroup WG_X 64, Dawn's busy wait (before)     13.4, 7.1         -
 *   direct 8×8, TM4 2, TN4 1                        6.0 (busy wait)   14.2, 11.1
 *
 * The row/column-blocked variants (a TM8/TN4 version of gemm_subgroup.wgsl) gained nothing and
 * were not kept. WG_X 16 ties 32 and gives narrow outputs more workgroups; at 256³ (one product
 * per sync) the widths measured alike (9.6-10.3 GFLOP/s on Dawn; native 2.2). Earlier,
 * with Dawn's busy wait and as GFLOP per CPU-second (wall in parentheses):
 *
 *   kernel / tiles                      Dawn          native (wgpu)
 *   direct 8×8, TM4 1, TN4 1             9.0 (3.8)     9.5 (9.1)
 *   direct 8×8, TM4 2, TN4 2               -           7.5 (7.2)
 *   tiled 8×8, TM 8, BK 32               6.0 (1.2)     5.3 (5.3)
 *   tiled 16×16, TM 4, BK 16             3.9 (1.2)     3.8 (4.1)
 *
 * Every load on llvmpipe is a per-lane scalar loop (~8 instructions per float) while the math
 * runs 8 lanes wide, so the winners are the tiles that load least per FMA without spilling;
 * staging in workgroup memory adds stores and coroutine switches at barriers and loses. GPU_TILES
 * is a conventional choice, not measured here.
 */
import type { Gpu } from "../../engine/device.ts";

export type GemmTiles =
  | { kernel: "direct"; WG_X: number; WG_Y: number; TM4: number; TN4: number }
  | { kernel: "subgroup"; WG_X: number }
  | { kernel: "tiled"; WG_X: number; WG_Y: number; TM: number; BK: number };

export const LLVMPIPE_TILES: GemmTiles = { kernel: "direct", WG_X: 8, WG_Y: 8, TM4: 2, TN4: 1 };
export const LLVMPIPE_SUBGROUP_TILES: GemmTiles = { kernel: "subgroup", WG_X: 16 };
export const GPU_TILES: GemmTiles = { kernel: "tiled", WG_X: 16, WG_Y: 16, TM: 4, BK: 16 };

/**
 * The tiles for this adapter (engine/kernel_choices.ts applies AKD_GEMM_TILES and test choices
 * on top).
 */
export function gemmTiles(gpu: Pick<Gpu, "adapter" | "features">): GemmTiles {
  const { description, device, isFallback } = gpu.adapter;
  if (!/llvmpipe|lavapipe|swiftshader/i.test(description) && !isFallback) return GPU_TILES;
  // llvmpipe's subgroups are its SIMD width: 8 lanes at 256 bits, 16 at 512.
  const wide = /\b(256|512)[ -]bits/i.test(`${description} ${device}`);
  return gpu.features.has("subgroups") && wide ? LLVMPIPE_SUBGROUP_TILES : LLVMPIPE_TILES;
}

/** Output rows and columns one workgroup covers. */
export function tileShape(t: GemmTiles): { bm: number; bn: number } {
  switch (t.kernel) {
    case "direct":
      return { bm: t.WG_Y * 4 * t.TM4, bn: t.WG_X * 4 * t.TN4 };
    case "subgroup":
      return { bm: 8, bn: t.WG_X * 4 };
    case "tiled":
      return { bm: t.WG_Y * t.TM, bn: t.WG_X * 4 };
  }
}
