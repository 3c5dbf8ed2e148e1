/**
 * Zero-shot CLIP classification (docs/method.md §1): each class's prompts ("a photo of a {}.") are
 * encoded; W_raw[:, c] is the mean of class c's unnormalised text embeddings, W its
 * column-L2-normalised copy, and the logits are 100·f̂ᵀW for L2-normalised image features f̂.
 */
import { InputError } from "../../engine/errors.ts";
import { scope, type Tensor } from "../../engine/tensor.ts";
import { noGrad } from "../../engine/autograd.ts";
import { mean } from "../../engine/ops/reduce.ts";
import { reshape } from "../../engine/ops/shape.ts";
import { concat } from "../../engine/ops/narrow.ts";
import { transpose } from "../../engine/ops/permute.ts";
import { matmul } from "../../engine/ops/matmul.ts";
import { l2Normalize } from "../../engine/ops/norm.ts";
import type { ClipTokenizer } from "./tokenizer.ts";
import type { CLIP } from "./clip.ts";

/** The teacher's logit scale for zero-shot classification. */
export const ZERO_SHOT_SCALE = 100;

/** Prompts encoded per text-tower call (bounds the activations held at once). */
const PROMPT_BATCH = 256;

export interface ClassWeights {
  /** W_raw [E, C]: mean text embedding per class (CLAP's prototype initialisation). */
  raw: Tensor;
  /** W [E, C]: W_raw with each column L2-normalised. */
  weights: Tensor;
}

export interface ClassWeightOptions {
  /**
   * L2-normalise each prompt's embedding before the mean (the ImageNet template ensemble:
   * normalise each, average, renormalise). Off by default: the mean of unnormalised embeddings.
   */
  normalizePrompts?: boolean;
}

/** Class name `_` → space, put into every template's `{}`. */
export function classPrompts(className: string, templates: readonly string[]): string[] {
  const name = className.replaceAll("_", " ");
  return templates.map((t) => t.replaceAll("{}", name));
}

/**
 * Text embeddings [C·T, E], class-major (class c's T prompts in rows c·T … c·T + T − 1), →
 * class weights.
 */
export function classWeights(
  embeddings: Tensor,
  classes: number,
  { normalizePrompts = false }: ClassWeightOptions = {},
): ClassWeights {
  const [n, e] = embeddings.shape;
  if (classes < 1 || n % classes !== 0) {
    throw new Error(`classWeights: ${n} embeddings do not split into ${classes} classes`);
  }
  return noGrad(() =>
    scope(() => {
      const perClass = reshape(embeddings, [classes, n / classes, e]);
      const prompts = normalizePrompts ? l2Normalize(perClass, 2) : perClass;
      const raw = transpose(mean(prompts, [1]), 0, 1); // [E, C]
      return { raw, weights: l2Normalize(raw, 0) };
    })
  );
}

/** Encodes class names × templates with CLIP's text tower and returns the class weights. */
export function zeroShotWeights(
  clip: CLIP,
  tokenizer: Pick<ClipTokenizer, "tokenize">,
  classNames: readonly string[],
  templates: readonly string[],
  options: ClassWeightOptions = {},
): ClassWeights {
  if (classNames.length === 0 || templates.length === 0) {
    throw new InputError("zero-shot weights need at least one class name and one template");
  }
  const prompts = classNames.flatMap((c) => classPrompts(c, templates));
  const ctx = clip.config.contextLength;
  return scope(() => {
    const parts: Tensor[] = [];
    for (let i = 0; i < prompts.length; i += PROMPT_BATCH) {
      const ids = tokenizer.tokenize(prompts.slice(i, i + PROMPT_BATCH), ctx, false);
      parts.push(clip.encodeText(ids));
    }
    const embeddings = parts.length === 1 ? parts[0] : noGrad(() => concat(parts, 0));
    return classWeights(embeddings, classNames.length, options);
  });
}

/** 100 · normalise(imageFeatures [B, E]) · W [E, C] → logits [B, C]. */
export function zeroShotLogits(imageFeatures: Tensor, weights: Tensor): Tensor {
  return noGrad(() =>
    scope(() => matmul(l2Normalize(imageFeatures, 1), weights, { alpha: ZERO_SHOT_SCALE }))
  );
}
