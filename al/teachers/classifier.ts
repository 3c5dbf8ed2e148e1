/**
 * `classifier:CKPT`: a torchvision ResNet-18 or MobileNetV2 state dict (safetensors) as a fixed
 * teacher (or the tool's own MLP classifier). The architecture, width and class count are read
 * from the tensor shapes; the images get the eval transform at the run's image size and ImageNet
 * normalisation.
 */
import { InputError } from "../../engine/errors.ts";
import { loadSafetensors } from "../../engine/safetensors.ts";
import type { ImageSet } from "../data/image.ts";
import { IMAGENET_MEAN, IMAGENET_STD } from "../data/normalization.ts";
import type { ExperimentData, RoundTeacher } from "../ports.ts";
import { buildClassifier, classifierShape, describeClassifier } from "../train/backbones.ts";
import type { Split } from "../train/inputs.ts";
import { contentKey, fileHash, type LogitsCache } from "./cache.ts";
import { modelTeacher } from "./model_teacher.ts";

export interface ClassifierTeacherOptions {
  spec: string;
  checkpoint: string;
  description?: string;
  imageSize: number;
  data: ExperimentData;
  sets: Record<Split, ImageSet>;
  cache?: LogitsCache;
  /** Keep the classifier open for the per-step forward (augmented teacher input). */
  perStep?: boolean;
}

export async function classifierTeacher(o: ClassifierTeacherOptions): Promise<RoundTeacher> {
  const { tensors } = await loadSafetensors(o.checkpoint);
  const shape = classifierShape(tensors, o.checkpoint);
  const C = o.data.classes.length;
  if (shape.classes !== C) {
    throw new InputError(
      `${o.checkpoint}: a classifier of ${shape.classes} classes, the dataset has ${C}`,
    );
  }
  const input = { size: o.imageSize, mean: IMAGENET_MEAN, std: IMAGENET_STD };
  return await modelTeacher({
    spec: o.spec,
    weightsKey: await contentKey({ classifier: await fileHash(o.checkpoint) }),
    description: o.description ??
      `${describeClassifier(shape.arch, shape.width)} classifier ${o.checkpoint} (${C} classes)`,
    input,
    open: () => {
      const model = buildClassifier(shape.arch, C, shape);
      try {
        model.loadStateDict(tensors, { source: o.checkpoint });
      } catch (e) {
        model.dispose();
        throw e;
      }
      model.eval().setRequiresGrad(false);
      return Promise.resolve({
        input,
        logits: (x) => model.forward(x),
        dispose: () => model.dispose(),
      });
    },
    data: o.data,
    sets: o.sets,
    cache: o.cache,
    perStep: o.perStep,
  });
}
