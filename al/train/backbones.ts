/**
 * Builds the networks a config names: the dual-head student's backbone, and whole classifiers
 * (teachers, with a `fc` head) whose shape is read back from a checkpoint.
 */
import { InputError } from "../../engine/errors.ts";
import type { Module } from "../../engine/nn/module.ts";
import { loadSafetensors } from "../../engine/safetensors.ts";
import type { Rng } from "../../engine/rng.ts";
import type { Tensor } from "../../engine/tensor.ts";
import type { CLASSIFIERS, RunConfig } from "../config.ts";
import { mobilenetV2 } from "../../models/mobilenet_v2.ts";
import { resnet18 } from "../../models/resnet.ts";
import { MlpBackbone, MlpClassifier } from "./mlp.ts";
import { type Backbone, DualHeadStudent } from "./student.ts";

export type StudentArch = RunConfig["student"];
export type ClassifierArch = (typeof CLASSIFIERS)[number];

/** A network with a classification head: `forward(x)` gives logits [B, classes]. */
export interface Classifier extends Module {
  forward(x: Tensor): Tensor;
}

/** Default base width of each student architecture (torchvision's; 256 hidden units for the MLP). */
const DEFAULT_WIDTH: Record<StudentArch, number> = { resnet18: 64, mobilenet_v2: 1, mlp: 256 };

/** `width`: ResNet-18 `conv1` channels, MobileNetV2 multiplier, MLP hidden units. */
export function buildBackbone(
  arch: StudentArch,
  imageSize: number,
  rng?: Rng,
  width = DEFAULT_WIDTH[arch],
): Backbone {
  switch (arch) {
    case "resnet18":
      if (!Number.isInteger(width)) {
        throw new InputError(
          `studentWidth: ResNet-18 takes a whole number of channels, got ${width}`,
        );
      }
      return resnet18({ numClasses: 0, width, rng });
    case "mobilenet_v2":
      return mobilenetV2({ numClasses: 0, widthMult: width, rng });
    case "mlp":
      if (!Number.isInteger(width)) {
        throw new InputError(`studentWidth: the MLP takes a whole number of units, got ${width}`);
      }
      return new MlpBackbone(3 * imageSize * imageSize, width, undefined, rng);
  }
}

/** The classification head of a torchvision checkpoint, which a backbone does not have. */
const HEAD_PREFIXES = ["fc.", "classifier."];

/**
 * Loads ImageNet-pretrained (or any) torchvision weights into a backbone, leaving out the
 * checkpoint's classification head; any other missing, unexpected or mis-shaped tensor is an
 * InputError naming the file.
 */
export async function loadPretrainedBackbone(backbone: Backbone, path: string): Promise<void> {
  const { tensors } = await loadSafetensors(path);
  const body = new Map([...tensors].filter(([k]) => !HEAD_PREFIXES.some((p) => k.startsWith(p))));
  backbone.loadStateDict(body, { source: path });
}

/** A fresh student: random init from `rng` ("backbone", "heads" streams), zeros without one. */
export function buildStudent(
  arch: StudentArch,
  classes: number,
  imageSize: number,
  rng?: Rng,
  width?: number,
): DualHeadStudent {
  const backbone = buildBackbone(arch, imageSize, rng?.stream("backbone"), width);
  return new DualHeadStudent(backbone, classes, rng?.stream("heads"));
}

/** A classifier's architecture in words, e.g. "ResNet-18 (width 64)". */
export function describeClassifier(arch: ClassifierArch, width: number): string {
  switch (arch) {
    case "resnet18":
      return `ResNet-18 (width ${width})`;
    case "mobilenet_v2":
      return `MobileNetV2 (width ×${width})`;
    case "mlp":
      return `MLP (${width} hidden units)`;
  }
}

export interface ClassifierShape {
  arch: ClassifierArch;
  classes: number;
  /** Base width (ResNet `conv1` channels; MobileNetV2 width multiplier; MLP hidden units). */
  width: number;
  /** Input side the MLP was built for (ResNet/MobileNet take any size). */
  imageSize?: number;
}

export function buildClassifier(
  arch: ClassifierArch,
  classes: number,
  opts: { width: number; imageSize?: number; rng?: Rng },
): Classifier {
  switch (arch) {
    case "resnet18":
      return resnet18({ numClasses: classes, width: opts.width, rng: opts.rng });
    case "mobilenet_v2":
      // Dropout off: teachers train briefly and are evaluated deterministically.
      return mobilenetV2({ numClasses: classes, widthMult: opts.width, dropout: 0, rng: opts.rng });
    case "mlp":
      return new MlpClassifier(3 * opts.imageSize! ** 2, opts.width, classes, opts.rng);
  }
}

/** The architecture and sizes of a classifier state dict, from its tensor names and shapes. */
export function classifierShape(
  tensors: ReadonlyMap<string, { shape: readonly number[] }>,
  source: string,
): ClassifierShape {
  const shape = (name: string) => tensors.get(name)?.shape;
  const fc1 = shape("fc1.weight");
  const fc = shape("fc.weight");
  const conv1 = shape("conv1.weight");
  if (conv1 && fc && shape("layer4.1.conv2.weight")) {
    return { arch: "resnet18", classes: fc[0], width: conv1[0] };
  }
  const stem = shape("features.0.0.weight");
  const head = shape("classifier.1.weight");
  if (stem && head) {
    // torchvision: the last stage has makeDivisible(1280 · max(1, w), 8) channels, the stem
    // makeDivisible(32 · w, 8).
    const width = head[1] > 1280 ? head[1] / 1280 : stem[0] / 32;
    return { arch: "mobilenet_v2", classes: head[0], width };
  }
  if (fc1 && fc) {
    return {
      arch: "mlp",
      classes: fc[0],
      width: fc1[0],
      imageSize: Math.round(Math.sqrt(fc1[1] / 3)),
    };
  }
  throw new InputError(
    `${source}: not a classifier checkpoint: expected a torchvision resnet18 (conv1, layer4, ` +
      "fc), mobilenet_v2 (features.0.0, classifier.1) or the tool's MLP (fc1, fc)",
  );
}
