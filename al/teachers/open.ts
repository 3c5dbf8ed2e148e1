/**
 * From a config's `teacher` spec to a RoundTeacher:
 *   clip-zeroshot        zero-shot CLIP (`clip`: the weights), dataset prompt template(s)
 *   clap                 CLIP + a class-adaptive linear probe refitted every round
 *   tip-adapter-f[:FIT]  CLIP + a Tip-Adapter-F cache refitted every round (or a loaded fit)
 *   classifier:CKPT      a torchvision ResNet-18 / MobileNetV2 checkpoint
 *   holdout-classifier   a classifier the tool trains first on a held-out labeled slice
 *   logits:FILE          precomputed logits (safetensors `train`, `test`)
 * and what training distils from (`teacherInput`, docs/method.md §1 "Teacher input"): every
 * teacher but `logits:FILE` is a model that can run on each step's augmented batches.
 */
import { InputError } from "../../engine/errors.ts";
import { flagName, type RunConfig } from "../config.ts";
import type { Dataset } from "../data/image.ts";
import type { ExperimentData, RoundTeacher, TeacherInput } from "../ports.ts";
import type { Progress } from "../progress.ts";
import { contentKey, fileHash, LogitsCache } from "./cache.ts";
import { classifierTeacher } from "./classifier.ts";
import { holdoutClassifier } from "./holdout.ts";
import { logitsFileTeacher } from "./logits_file.ts";
import { modelTeacher } from "./model_teacher.ts";
import { promptTemplates } from "../data/image.ts";
import { CLIP_MEAN, CLIP_STD } from "../data/normalization.ts";
import { loadSafetensors } from "../../engine/safetensors.ts";

export interface OpenTeacherArgs {
  config: RunConfig;
  ds: Dataset;
  data: ExperimentData;
  /** Train-split indices held out for `holdout-classifier`. */
  held: Int32Array;
  progress: Progress;
  cache?: LogitsCache;
  /** Resolved by `resolveTeacherInput`; `cached` when absent (`akd teacher`). */
  input?: TeacherInput;
}

/**
 * `teacherInput` made concrete: `auto` is `augmented` on a hardware adapter and `cached` on a
 * software one (the teacher's per-step forward would multiply a CPU run's time), and always
 * `cached` for `logits:FILE`, which has no model to run; asking it for `augmented` is an error.
 */
export function resolveTeacherInput(
  config: Pick<RunConfig, "teacher" | "teacherInput">,
  softwareAdapter: boolean,
): TeacherInput {
  const pixels = !config.teacher.startsWith("logits:");
  if (config.teacherInput === "augmented" && !pixels) {
    throw new InputError(
      `${flagName("teacherInput")} augmented: teacher ${config.teacher} is precomputed logits, ` +
        `with no model to run on the augmented images (use cached)`,
    );
  }
  if (config.teacherInput !== "auto") return config.teacherInput;
  return pixels && !softwareAdapter ? "augmented" : "cached";
}

export async function openTeacher(a: OpenTeacherArgs): Promise<RoundTeacher> {
  const input = a.input ?? "cached";
  const teacher = await openSpec(a, input === "augmented");
  if (input === "cached") return { ...teacher, input };
  // A checkpoint distilled one way must not be resumed the other (loop.ts checks the key).
  return { ...teacher, input, key: await contentKey({ teacher: teacher.key, input }) };
}

// The CLIP teachers are imported when used: runs without CLIP never load the CLIP model code.
async function clipFilesOf(config: RunConfig) {
  if (!config.clip) {
    throw new InputError(`teacher ${config.teacher} needs CLIP weights: --clip DIR`);
  }
  const { findClipFiles } = await import("./clip_zeroshot.ts");
  return await findClipFiles(config.clip);
}

/** CLIP's input resolution, read from the checkpoint's shapes (no model is built). */
async function clipResolution(weights: string): Promise<number> {
  const { inferClipConfig } = await import("../../models/clip/config.ts");
  const { hfToOpenAiNames, isHfClip } = await import("../../models/clip/hf_names.ts");
  const { tensors } = await loadSafetensors(weights);
  const named = isHfClip(tensors.keys()) ? hfToOpenAiNames(tensors, weights) : tensors;
  return inferClipConfig(named, weights).imageResolution;
}

async function openSpec(a: OpenTeacherArgs, perStep: boolean): Promise<RoundTeacher> {
  const { config, ds, data } = a;
  const sets = { train: ds.splits.train, test: ds.splits.test };
  const spec = config.teacher;
  if (spec === "clip-zeroshot") {
    const files = await clipFilesOf(config);
    const { ClipZeroShot } = await import("./clip_zeroshot.ts");
    const templates = promptTemplates(ds);
    return await modelTeacher({
      spec,
      weightsKey: await contentKey({
        clip: await fileHash(files.weights),
        classes: ds.classes,
        templates,
      }),
      description: `zero-shot CLIP (${files.weights}), prompts ${JSON.stringify(templates)}`,
      input: { size: await clipResolution(files.weights), mean: CLIP_MEAN, std: CLIP_STD },
      open: () => ClipZeroShot.load(files, ds),
      data,
      sets,
      cache: a.cache,
      perStep,
    });
  }
  if (spec === "clap") {
    const { clapTeacher, loadClapModel } = await import("./clap.ts");
    return await clapTeacher({
      model: await loadClapModel(await clipFilesOf(config)),
      ds,
      data,
      sets,
      lag: config.clapLag,
      cache: a.cache,
      perStep,
    });
  }
  if (spec === "tip-adapter-f" || spec.startsWith("tip-adapter-f:")) {
    const { loadClapModel } = await import("./clap.ts");
    const { tipAdapterTeacher } = await import("./tip_adapter.ts");
    return await tipAdapterTeacher({
      model: await loadClapModel(await clipFilesOf(config)),
      ds,
      data,
      lag: config.tipLag,
      fitFile: spec.startsWith("tip-adapter-f:") ? spec.slice(14) : undefined,
      cache: a.cache,
      perStep,
    });
  }
  if (spec.startsWith("logits:")) {
    return await logitsFileTeacher(spec.slice(7), data, sets.train.length, sets.test.length);
  }
  if (spec.startsWith("classifier:")) {
    return await classifierTeacher({
      spec,
      checkpoint: spec.slice(11),
      imageSize: config.imageSize,
      data,
      sets,
      cache: a.cache,
      perStep,
    });
  }
  if (spec === "holdout-classifier") {
    const { checkpoint, description } = await holdoutClassifier({
      config,
      ds,
      held: a.held,
      progress: a.progress,
    });
    return await classifierTeacher({
      spec,
      checkpoint,
      description,
      imageSize: config.imageSize,
      data,
      sets,
      cache: a.cache,
      perStep,
    });
  }
  throw new InputError(`teacher "${spec}": unknown`);
}
