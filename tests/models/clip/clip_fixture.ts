/** Test helper: the CLIP fixture cases (A = clip_rn, B = clip_vit) and their tolerances. */
import { join } from "node:path";
import { type HostTensor, loadSafetensors } from "../../../engine/safetensors.ts";
import { fixturesDir } from "../../fixtures.ts";

export const CLIP_CASES = ["clip_rn", "clip_vit"] as const;
export type ClipCase = typeof CLIP_CASES[number];

export interface ClipFixture {
  model: Map<string, HostTensor>;
  io: Map<string, HostTensor>;
  /** Per-output atol from case.json; rtol is shared. */
  atol: Record<string, number>;
  rtol: number;
  modelPath: string;
  ioPath: string;
}

export const fixtureRoot = fixturesDir();

export async function loadClipFixture(name: ClipCase): Promise<ClipFixture> {
  const dir = join(fixtureRoot!, name);
  const cse = JSON.parse(await Deno.readTextFile(join(dir, "case.json")));
  const modelPath = join(dir, "model.safetensors");
  const ioPath = join(dir, "io.safetensors");
  return {
    model: (await loadSafetensors(modelPath)).tensors,
    io: (await loadSafetensors(ioPath)).tensors,
    atol: cse.tolerance_hint.atol,
    rtol: cse.tolerance_hint.rtol,
    modelPath,
    ioPath,
  };
}
