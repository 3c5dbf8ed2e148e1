/**
 * `holdout-classifier`: a teacher the tool trains itself, for offline runs without CLIP weights
 * (the demo). A torchvision ResNet-18 (or MobileNetV2) is trained from scratch with
 * cross-entropy on a labeled slice of the train split that is held out of the AL pool
 * (`teacherHoldout` images, drawn with seed 0), for `teacherSteps` AdamW steps of `batchSize`
 * images (drawn with replacement; the student's augmentation, lr, weight decay and schedule).
 * The checkpoint is cached by content key, so later runs load it.
 */
import { join } from "node:path";
import { exists } from "../../engine/files.ts";
import { Rng } from "../../engine/rng.ts";
import { AdamW } from "../../engine/optim/adamw.ts";
import { warmupLinear } from "../../engine/optim/schedule.ts";
import { backward } from "../../engine/ops/backward.ts";
import { crossEntropy } from "../../engine/ops/softmax.ts";
import { scopeAsync, tensor } from "../../engine/tensor.ts";
import type { RunConfig } from "../config.ts";
import type { Dataset } from "../data/image.ts";
import type { Progress } from "../progress.ts";
import { buildClassifier, describeClassifier } from "../train/backbones.ts";
import { ImageInputs } from "../train/inputs.ts";
import { saveModule } from "../train/learner.ts";
import { contentKey, sha256 } from "./cache.ts";
import { cacheDir } from "../env.ts";

export interface HoldoutArgs {
  config: RunConfig;
  ds: Dataset;
  held: Int32Array;
  progress: Progress;
  /** Folder of the cached checkpoint (default `<cache>/teachers`). */
  dir?: string;
}

export interface HoldoutTeacher {
  checkpoint: string;
  description: string;
}

export async function holdoutClassifier(a: HoldoutArgs): Promise<HoldoutTeacher> {
  const { config, ds, held } = a;
  const C = ds.classes.length;
  const recipe = {
    dataset: ds.name,
    held: await sha256(new Uint8Array(held.buffer, held.byteOffset, held.byteLength)),
    arch: config.teacherArch,
    width: config.teacherWidth,
    steps: config.teacherSteps,
    batch: config.batchSize,
    lr: config.lr,
    weightDecay: config.weightDecay,
    warmup: config.warmup,
    imageSize: config.imageSize,
  };
  const key = await contentKey({ holdoutClassifier: recipe });
  const dir = a.dir ?? join(cacheDir(), "teachers");
  const checkpoint = join(dir, `holdout-${key.slice(0, 24)}.safetensors`);
  const description = `${describeClassifier(config.teacherArch, config.teacherWidth)} ` +
    `trained from scratch by this tool for ${config.teacherSteps} steps of ${config.batchSize} on ` +
    `${held.length} labeled ${ds.name} train images held out of the AL pool (not CLIP)`;
  if (await exists(checkpoint)) {
    a.progress.log(`teacher: cached holdout classifier ${checkpoint}`);
    return { checkpoint, description };
  }
  const root = Rng.fromSeed(0).stream("holdout-classifier");
  const model = buildClassifier(config.teacherArch, C, {
    width: config.teacherWidth,
    imageSize: config.imageSize,
    rng: root.stream("init"),
  });
  const inputs = new ImageInputs({ train: ds.splits.train, test: ds.splits.test }, {
    size: config.imageSize,
    cacheBytes: 0,
  });
  const draws = root.stream("batches");
  const augment = root.stream("augment");
  const B = config.batchSize;
  const S = config.imageSize;
  const steps = config.teacherSteps;
  const optimizer = new AdamW(model.parameters(), {
    lr: config.lr,
    weightDecay: config.weightDecay,
  });
  const phase = a.progress.phase("train holdout teacher", steps, "step");
  model.train();
  try {
    for (let step = 0; step < steps; step++) {
      const idx = Int32Array.from({ length: B }, () => held[draws.int(held.length)]);
      const x = await inputs.trainBatch(idx, augment);
      const labels = idx.map((i) => ds.splits.train.labels[i]);
      const loss = await scopeAsync(async () => {
        const l = crossEntropy(model.forward(tensor(x, [B, 3, S, S])), tensor(labels, [B], "i32"));
        optimizer.zeroGrad();
        backward(l);
        optimizer.setLr(warmupLinear(step, steps, config.lr, config.warmup));
        optimizer.step();
        optimizer.zeroGrad();
        return await l.item();
      });
      if (!Number.isFinite(loss)) throw new Error(`holdout teacher: loss ${loss} at step ${step}`);
      phase.tick();
    }
    phase.end();
    await Deno.mkdir(dir, { recursive: true });
    await saveModule(model, checkpoint);
  } finally {
    optimizer.dispose();
    model.dispose();
  }
  return { checkpoint, description };
}
