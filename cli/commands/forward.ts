/**
 * `akd forward --model resnet18|mobilenet_v2|clip --weights W --input I --output O`: runs a
 * model in eval mode (docs/cli.md). For the torchvision classifiers, I holds `input` [B, 3, H, W]
 * f32 and O receives `output` (logits [B, classes]); the model's shape is read from W's
 * tensor shapes and W must match it exactly. CLIP is `forwardClip` (models/clip's owner).
 */
import { Command, Option } from "@commander-js/extra-typings";
import { backendOption, withEngine } from "../common.ts";
import { InputError } from "../../engine/errors.ts";
import { noGrad } from "../../engine/autograd.ts";
import { loadSafetensors, saveSafetensors } from "../../engine/safetensors.ts";
import { scopeAsync, tensor } from "../../engine/tensor.ts";
import { MODEL_NAMES, modelFromStateDict, type ModelName } from "../../models/registry.ts";
import { forwardClip } from "./forward_clip.ts";

/** Images per forward pass (bounds device memory for large inputs). */
const BATCH = 64;

/** Runs a torchvision classifier on `input`; returns the logits' shape. */
export async function forwardClassifier(
  name: ModelName,
  weightsPath: string,
  inputPath: string,
  outputPath: string,
): Promise<number[]> {
  const { tensors: input } = await loadSafetensors(inputPath);
  const x = input.get("input");
  if (!x) throw new InputError(`${inputPath}: no "input" tensor (found: ${[...input.keys()]})`);
  if (x.dtype !== "f32" || x.shape.length !== 4 || x.shape[1] !== 3) {
    throw new InputError(
      `${inputPath}: "input" must be f32 [B, 3, H, W], got ${x.dtype}[${x.shape}]`,
    );
  }
  const { tensors } = await loadSafetensors(weightsPath);
  const model = modelFromStateDict(name, tensors, weightsPath);
  try {
    model.eval();
    const [b, , h, w] = x.shape;
    const per = 3 * h * w;
    const logits = new Float32Array(b * model.numClasses);
    for (let start = 0; start < b; start += BATCH) {
      const n = Math.min(BATCH, b - start);
      const data = (x.data as Float32Array).subarray(start * per, (start + n) * per);
      const out = await scopeAsync(() =>
        noGrad(() => model.forward(tensor(data, [n, 3, h, w]))).read()
      );
      logits.set(out, start * model.numClasses);
    }
    const shape = [b, model.numClasses];
    await saveSafetensors(outputPath, new Map([["output", { dtype: "f32", shape, data: logits }]]));
    return shape;
  } finally {
    model.dispose();
  }
}

export function forwardCommand() {
  return new Command("forward")
    .description("runs a model in eval mode on a safetensors input")
    .addOption(
      new Option("--model <name>", "which model").choices([...MODEL_NAMES, "clip"] as const)
        .makeOptionMandatory(),
    )
    .requiredOption("--weights <path>", "PyTorch-named state dict (.safetensors)")
    .requiredOption("--input <path>", "input tensors (.safetensors): input, or image/text for clip")
    .requiredOption("--output <path>", "where to write the outputs (.safetensors)")
    .addOption(backendOption())
    .option("--quiet", "no summary on stderr")
    .action(async (opts) => {
      await withEngine(opts.backend, async () => {
        const written = opts.model === "clip"
          ? await forwardClip(opts.weights, opts.input, opts.output)
          : [
            `output [${await forwardClassifier(
              opts.model,
              opts.weights,
              opts.input,
              opts.output,
            )}]`,
          ];
        if (!opts.quiet) console.error(`wrote ${opts.output}: ${written.join(", ")}`);
      });
    });
}
