/**
 * CLIP hyperparameters recovered from a state dict's names and shapes, as the reference
 * `clip/model.py` `build_model` does: no config file travels with published weights.
 */
import { InputError } from "../../engine/errors.ts";

export interface ClipConfig {
  embedDim: number;
  imageResolution: number;
  /** Four stage depths for the ModifiedResNet, one block count for the ViT. */
  visionLayers: number | [number, number, number, number];
  visionWidth: number;
  /** null for the ModifiedResNet. */
  visionPatchSize: number | null;
  visionHeads: number;
  contextLength: number;
  vocabSize: number;
  transformerWidth: number;
  transformerHeads: number;
  transformerLayers: number;
}

/** Anything with a shape: host tensors, GPU tensors. */
export type ShapeMap = ReadonlyMap<string, { readonly shape: readonly number[] }>;

export function isVisionTransformer(config: ClipConfig): boolean {
  return config.visionPatchSize !== null;
}

/** Distinct values of the name part right after `prefix` (block indices of a Sequential). */
function countBlocks(names: readonly string[], prefix: string): number {
  const ids = new Set<string>();
  for (const n of names) if (n.startsWith(prefix)) ids.add(n.slice(prefix.length).split(".")[0]);
  return ids.size;
}

/** Rounds a square root and insists that it is exact (a token grid must be square). */
function squareSide(count: number, what: string, source: string): number {
  const side = Math.round(Math.sqrt(count));
  if (side * side !== count) {
    throw new InputError(`${source}: ${what} has ${count} grid tokens, not a square number`);
  }
  return side;
}

/**
 * Infers the CLIP config from shapes. `source` names the checkpoint in errors. The tensors this
 * needs must exist (an InputError names the missing ones); the rest is checked by the loader.
 */
export function inferClipConfig(state: ShapeMap, source = "state dict"): ClipConfig {
  const names = [...state.keys()];
  const vit = state.has("visual.proj");
  const needed = vit
    ? ["visual.conv1.weight", "visual.positional_embedding"]
    : ["visual.layer1.0.conv1.weight", "visual.attnpool.positional_embedding"];
  needed.push(
    "text_projection",
    "positional_embedding",
    "token_embedding.weight",
    "ln_final.weight",
  );
  const missing = needed.filter((n) => !state.has(n));
  if (missing.length) {
    throw new InputError(
      `${source}: not a CLIP state dict: missing ${missing.join(", ")}` +
        (vit ? "" : " (no visual.proj, so read as a ModifiedResNet CLIP)"),
    );
  }
  const shape = (n: string) => state.get(n)!.shape;
  const dim = (n: string, axis: number, rank: number): number => {
    const s = shape(n);
    if (s.length !== rank) {
      throw new InputError(`${source}: ${n} has shape [${s}], expected rank ${rank}`);
    }
    return s.at(axis)!;
  };

  let visionLayers: ClipConfig["visionLayers"];
  let visionWidth: number, visionPatchSize: number | null, imageResolution: number;
  let visionHeads: number;
  if (vit) {
    visionWidth = dim("visual.conv1.weight", 0, 4);
    visionPatchSize = dim("visual.conv1.weight", -1, 4);
    visionLayers = names.filter((n) =>
      n.startsWith("visual.") && n.endsWith(".attn.in_proj_weight")
    ).length;
    const grid = squareSide(
      dim("visual.positional_embedding", 0, 2) - 1,
      "visual.positional_embedding",
      source,
    );
    imageResolution = visionPatchSize * grid;
    visionHeads = Math.floor(visionWidth / 64);
  } else {
    const counts = [1, 2, 3, 4].map((b) => countBlocks(names, `visual.layer${b}.`));
    visionLayers = counts as [number, number, number, number];
    visionWidth = dim("visual.layer1.0.conv1.weight", 0, 4);
    visionPatchSize = null;
    const outputWidth = squareSide(
      dim("visual.attnpool.positional_embedding", 0, 2) - 1,
      "visual.attnpool.positional_embedding",
      source,
    );
    imageResolution = outputWidth * 32;
    visionHeads = Math.floor((visionWidth * 32) / 64);
  }
  const transformerWidth = dim("ln_final.weight", 0, 1);
  const config: ClipConfig = {
    embedDim: dim("text_projection", 1, 2),
    imageResolution,
    visionLayers,
    visionWidth,
    visionPatchSize,
    visionHeads,
    contextLength: dim("positional_embedding", 0, 2),
    vocabSize: dim("token_embedding.weight", 0, 2),
    transformerWidth,
    transformerHeads: Math.floor(transformerWidth / 64),
    transformerLayers: countBlocks(names, "transformer.resblocks."),
  };
  // Widths under 64 would give zero heads: the reference cannot build such a model either.
  if (config.visionHeads < 1 || config.transformerHeads < 1) {
    throw new InputError(
      `${source}: widths (vision ${visionWidth}, text ${transformerWidth}) give zero attention ` +
        `heads (heads = width / 64)`,
    );
  }
  const stages = Array.isArray(visionLayers) ? visionLayers : [visionLayers];
  if (stages.some((n) => n < 1) || config.transformerLayers < 1) {
    throw new InputError(
      `${source}: a tower has no blocks (vision [${stages}], ` +
        `text ${config.transformerLayers})`,
    );
  }
  return config;
}
