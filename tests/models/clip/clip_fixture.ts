/** Test helper: the CLIP fixture cases (A = clip_rn, B = clip_vit) and their tolerances. */
import { type HostTensor, loadSafetensors } from "../../../engine/safetensors.ts";
import { fixture } from "../../fixtures.ts";

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

export async function loadClipFixture(name: ClipCase): Promise<ClipFixture> {
  const cse = JSON.parse(await Deno.readTextFile(fixture(name, "case.json")));
  const modelPath = fixture(name, "model.safetensors");
  const ioPath = fixture(name, "io.safetensors");
  return {
    model: (await loadSafetensors(modelPath)).tensors,
    io: (await loadSafetensors(ioPath)).tensors,
    atol: cse.tolerance_hint.atol,
    rtol: cse.tolerance_hint.rtol,
    modelPath,
    ioPath,
  };
}
