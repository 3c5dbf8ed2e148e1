/**
 * Which kernel variant each op runs: chosen per adapter when the engine opens, or set
 * explicitly (`EngineOptions.kernels`, `Engine.withKernels`), so tests cover every variant on one
 * adapter without touching module state, and AKD_GEMM_TILES can pin the GEMM tiles for tuning.
 */
import { z } from "zod";
import type { Gpu } from "./device.ts";
import { InputError } from "./errors.ts";
import { type GemmTiles, gemmTiles } from "../kernels/gemm/tiles.ts";

export interface KernelChoices {
  /** GEMM kernel and tile sizes (kernels/gemm/tiles.ts). */
  gemmTiles: GemmTiles;
  /** Row kernels use subgroup reductions where the adapter has `subgroups`. */
  subgroups: boolean;
  /** Cross-entropy and KD loss read rows as vec4 where C is a multiple of 4. */
  rowVec4: boolean;
  /** Threads per row of the row kernels (a power of two ≤ 256); unset: by adapter. */
  rowThreads?: number;
  /** Outputs per permute invocation; unset: by adapter. */
  permuteRun?: number;
}

const count = z.number().int().min(1);
const gemmTilesSchema: z.ZodType<GemmTiles> = z.discriminatedUnion("kernel", [
  z.strictObject({ kernel: z.literal("direct"), WG_X: count, WG_Y: count, TM4: count, TN4: count }),
  z.strictObject({ kernel: z.literal("subgroup"), WG_X: count }),
  z.strictObject({ kernel: z.literal("tiled"), WG_X: count, WG_Y: count, TM: count, BK: count }),
]);

/** Parses a GemmTiles JSON value; a bad one is an InputError naming `source`. */
export function parseGemmTiles(text: string, source: string): GemmTiles {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new InputError(`${source}: not JSON (${(e as Error).message})`);
  }
  const parsed = gemmTilesSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const at = issue.path.length ? ` at ${issue.path.join(".")}` : "";
    throw new InputError(
      `${source}: not GEMM tiles${at}: ${issue.message} (expected e.g. ` +
        `{"kernel":"direct","WG_X":8,"WG_Y":8,"TM4":2,"TN4":1})`,
    );
  }
  return parsed.data;
}

/** The choices for this adapter, AKD_GEMM_TILES (JSON of GemmTiles) overriding the tiles. */
export function defaultKernelChoices(
  gpu: Pick<Gpu, "adapter" | "features">,
  env: (name: string) => string | undefined = (name) => Deno.env.get(name),
): KernelChoices {
  const forced = env("AKD_GEMM_TILES");
  return {
    gemmTiles: forced ? parseGemmTiles(forced, "AKD_GEMM_TILES") : gemmTiles(gpu),
    subgroups: true,
    rowVec4: true,
  };
}
