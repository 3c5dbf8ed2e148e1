/**
 * The torchvision classifiers by name, and building one whose shapes fit a PyTorch state dict
 * (ResNet: classes from `fc.weight`, width from `conv1.weight`; MobileNetV2: classes from
 * `classifier.1.weight`, width_mult from the stem and last convolutions).
 */
import { InputError } from "../engine/errors.ts";
import type { Module, StateSource } from "../engine/nn/module.ts";
import type { Rng } from "../engine/rng.ts";
import type { Tensor } from "../engine/tensor.ts";
import { resnet18 } from "./resnet.ts";
import { makeDivisible, mobilenetV2 } from "./mobilenet_v2.ts";

/** A classifier: `forward` gives logits, `features` the penultimate embedding. */
export interface ImageClassifier extends Module {
  readonly featureDim: number;
  readonly numClasses: number;
  forward(x: Tensor): Tensor;
  features(x: Tensor): Tensor;
}

export interface ModelOptions {
  numClasses?: number;
  /** ResNet: conv1 channels (64). */
  width?: number;
  /** MobileNetV2: width multiplier (1.0). */
  widthMult?: number;
  rng?: Rng;
}

export const MODELS = {
  resnet18: (o: ModelOptions): ImageClassifier =>
    resnet18({ numClasses: o.numClasses, width: o.width, rng: o.rng }),
  mobilenet_v2: (o: ModelOptions): ImageClassifier =>
    mobilenetV2({ numClasses: o.numClasses, widthMult: o.widthMult, rng: o.rng }),
} as const;

export type ModelName = keyof typeof MODELS;
export const MODEL_NAMES = Object.keys(MODELS) as ModelName[];

/** Width multipliers tried when reading a MobileNetV2 state dict (torchvision's usual ones). */
const WIDTH_MULTS = [1, 0.5, 0.75, 1.4, 1.3, 0.35, 0.25, 0.1, 1.5, 2];

type Shapes = ReadonlyMap<string, { shape: readonly number[] }>;

function shapeOf(tensors: Shapes, name: string, model: string, source: string): readonly number[] {
  const t = tensors.get(name);
  if (!t) throw new InputError(`${source}: not a ${model} state dict (no ${name})`);
  return t.shape;
}

/** The constructor options that fit a state dict's shapes. */
export function optionsForStateDict(
  name: ModelName,
  tensors: Shapes,
  source: string,
): ModelOptions {
  if (name === "resnet18") {
    const fc = shapeOf(tensors, "fc.weight", name, source);
    return { numClasses: fc[0], width: shapeOf(tensors, "conv1.weight", name, source)[0] };
  }
  const cls = shapeOf(tensors, "classifier.1.weight", name, source);
  const stem = shapeOf(tensors, "features.0.0.weight", name, source)[0];
  const widthMult = WIDTH_MULTS.find((m) =>
    makeDivisible(32 * m, 8) === stem && makeDivisible(1280 * Math.max(1, m), 8) === cls[1]
  );
  if (widthMult === undefined) {
    throw new InputError(
      `${source}: no width_mult gives a ${stem}-channel stem and ${cls[1]} features`,
    );
  }
  return { numClasses: cls[0], widthMult };
}

/** Builds `name` shaped for `tensors` and loads them (strict: any mismatch is refused). */
export function modelFromStateDict(
  name: ModelName,
  tensors: ReadonlyMap<string, StateSource>,
  source: string,
): ImageClassifier {
  const model = MODELS[name](optionsForStateDict(name, tensors, source));
  try {
    model.loadStateDict(new Map(tensors), { source });
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}
