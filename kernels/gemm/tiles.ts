/**
 * Per-adapter tile sizes of the GEMM kernel, chosen by the adapter's description.
 * WG_X·WG_Y threads per workgroup; each computes a 4×4 micro-tile; BK is the K depth of the
 * shared tiles.
 */
import type { AdapterDescription } from "../../engine/device.ts";

export interface GemmTiles {
  WG_X: number;
  WG_Y: number;
  BK: number;
}

export const DEFAULT_TILES: GemmTiles = { WG_X: 16, WG_Y: 16, BK: 16 };

export function gemmTiles(_adapter: AdapterDescription): GemmTiles {
  return DEFAULT_TILES;
}
