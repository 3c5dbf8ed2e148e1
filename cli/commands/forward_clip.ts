/**
 * `akd forward --model clip`: runs CLIP in eval mode on an input file holding `image`
 * [B, 3, R, R] f32 and/or `text` [T, context] i32, and writes `image_features`,
 * `text_features` (unnormalised) and, when both are given, `logits_per_image` [B, T].
 * Needs a current engine (the `forward` command opens it).
 */
import { InputError } from "../../engine/errors.ts";
import { type HostTensor, loadSafetensors, saveSafetensors } from "../../engine/safetensors.ts";
import { scopeAsync, type Tensor, tensor } from "../../engine/tensor.ts";
import { CLIP } from "../../models/clip/clip.ts";

async function toHost(t: Tensor): Promise<HostTensor> {
  return { dtype: "f32", shape: [...t.shape], data: (await t.read()) as Float32Array };
}

/** Returns the names of the tensors written. */
export async function forwardClip(
  weightsPath: string,
  inputPath: string,
  outputPath: string,
): Promise<string[]> {
  const { tensors: input } = await loadSafetensors(inputPath);
  const image = input.get("image");
  const text = input.get("text");
  if (!image && !text) {
    throw new InputError(
      `${inputPath}: has neither "image" nor "text" (found: ${[...input.keys()]})`,
    );
  }
  if (image && (image.dtype !== "f32" || image.shape.length !== 4)) {
    throw new InputError(
      `${inputPath}: "image" must be f32 [B, 3, H, W], got ${image.dtype}[${image.shape}]`,
    );
  }
  if (text && (text.dtype !== "i32" || text.shape.length !== 2)) {
    throw new InputError(
      `${inputPath}: "text" must be integer [T, context], got ${text.dtype}[${text.shape}]`,
    );
  }
  const model = await CLIP.load(weightsPath);
  try {
    if (text && text.shape[1] !== model.config.contextLength) {
      throw new InputError(
        `${inputPath}: "text" rows hold ${text.shape[1]} ids, the model's context is ` +
          `${model.config.contextLength}`,
      );
    }
    const out = await scopeAsync(async () => {
      const result = new Map<string, HostTensor>();
      const imageFeatures = image &&
        model.encodeImage(tensor(image.data as Float32Array, image.shape));
      const textFeatures = text && model.encodeText(text.data as Int32Array);
      if (imageFeatures) result.set("image_features", await toHost(imageFeatures));
      if (textFeatures) result.set("text_features", await toHost(textFeatures));
      if (imageFeatures && textFeatures) {
        result.set("logits_per_image", await toHost(model.logits(imageFeatures, textFeatures)));
      }
      return result;
    });
    await saveSafetensors(outputPath, out);
    return [...out.keys()];
  } finally {
    model.dispose();
  }
}
