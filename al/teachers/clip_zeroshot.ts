/**
 * `clip-zeroshot`: CLIP (any OpenAI-named or Hugging Face ViT checkpoint; RN50 in the paper) with
 * the dataset's prompt template(s) (docs/method.md §1): z_t = 100 · f̂ᵀW, W the column-normalised
 * mean text embedding of each class's prompts; a prompt ensemble (ImageNet) normalises each
 * prompt's embedding first. Images get the eval transform at CLIP's resolution and CLIP's
 * normalisation.
 */
import { join } from "node:path";
import { InputError } from "../../engine/errors.ts";
import { statIfExists } from "../../engine/files.ts";
import type { Tensor } from "../../engine/tensor.ts";
import { CLIP } from "../../models/clip/clip.ts";
import { ClipTokenizer } from "../../models/clip/tokenizer.ts";
import { type ClassWeights, zeroShotLogits, zeroShotWeights } from "../../models/clip/zeroshot.ts";
import { CLIP_MEAN, CLIP_STD } from "../data/normalization.ts";
import { promptTemplates } from "../data/image.ts";
import type { Dataset } from "../data/image.ts";
import type { ModelInput } from "../train/inputs.ts";
import type { LogitsModel } from "./model_teacher.ts";

export interface ClipFiles {
  weights: string;
  vocab: string;
}

const VOCAB_NAMES = ["bpe_simple_vocab_16e6.txt.gz", "vocab.json"];

/**
 * `--clip PATH`: a folder holding one `.safetensors` checkpoint and the BPE vocabulary
 * (`bpe_simple_vocab_16e6.txt.gz`, or `vocab.json` + `merges.txt`), or the checkpoint file
 * itself with the vocabulary beside it.
 */
export async function findClipFiles(path: string): Promise<ClipFiles> {
  let info: Deno.FileInfo | undefined;
  try {
    info = await statIfExists(path);
  } catch (e) {
    throw new InputError(`--clip ${path}: cannot read (${(e as Error).message})`);
  }
  if (!info) throw new InputError(`--clip ${path}: no such file or folder`);
  const dir = info.isDirectory ? path : join(path, "..");
  const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
  let weights = path;
  if (info.isDirectory) {
    const found = names.filter((n) => n.endsWith(".safetensors"));
    if (found.length !== 1) {
      throw new InputError(
        `--clip ${path}: expected one .safetensors checkpoint in the folder, found ` +
          (found.length ? found.join(", ") : "none"),
      );
    }
    weights = join(dir, found[0]);
  }
  const vocab = VOCAB_NAMES.find((n) => names.includes(n));
  if (!vocab) {
    throw new InputError(
      `--clip ${path}: no BPE vocabulary (${VOCAB_NAMES.join(" or ")}) in ${dir}`,
    );
  }
  return { weights, vocab: vocab === "vocab.json" ? dir : join(dir, vocab) };
}

/** The zero-shot class weights of a dataset (an ensemble normalises each prompt first). */
export function datasetClassWeights(
  clip: CLIP,
  tokenizer: Pick<ClipTokenizer, "tokenize">,
  ds: Pick<Dataset, "classes" | "template" | "templates">,
): ClassWeights {
  return zeroShotWeights(clip, tokenizer, ds.classes, promptTemplates(ds as Dataset), {
    normalizePrompts: ds.templates !== undefined,
  });
}

export function clipInput(clip: CLIP): ModelInput {
  return { size: clip.config.imageResolution, mean: CLIP_MEAN, std: CLIP_STD };
}

/** CLIP plus zero-shot class weights, as a logits model. Owns `clip` and the weights. */
export class ClipZeroShot implements LogitsModel {
  readonly input: ModelInput;

  constructor(readonly clip: CLIP, readonly weights: ClassWeights) {
    this.input = clipInput(clip);
  }

  static async load(files: ClipFiles, ds: Dataset): Promise<ClipZeroShot> {
    const clip = await CLIP.load(files.weights);
    try {
      const tokenizer = await ClipTokenizer.load(files.vocab);
      return new ClipZeroShot(clip, datasetClassWeights(clip, tokenizer, ds));
    } catch (e) {
      clip.dispose();
      throw e;
    }
  }

  logits(x: Tensor): Tensor {
    return zeroShotLogits(this.clip.encodeImage(x), this.weights.weights);
  }

  dispose(): void {
    this.weights.raw.dispose();
    this.weights.weights.dispose();
    this.clip.dispose();
  }
}
