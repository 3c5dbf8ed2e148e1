/**
 * One round of student training (docs/method.md §1): `repeat · ⌈|L| / batch⌉` steps, each on a
 * labeled batch drawn with replacement from the padded labeled list and a batch from the
 * cycling unlabeled pool, AdamW with linear warm-up then linear decay. With no teacher (plain
 * active learning) the steps see the labeled batch alone and the loss is its CE. The teacher's
 * targets are its cached logits of the un-augmented images, or (augmented teacher input) its
 * forward on each step's batches, cropped and flipped exactly as the student's.
 *
 * Streams of `rng`: "labeled" (batch draws), "unlabeled" (pool shuffles), "augment" (crops and
 * flips, labeled batch first, then unlabeled; one draw per image, whichever the teacher input).
 */
import { labeledBatches, labeledSteps, UnlabeledCycler } from "../data/loader.ts";
import type { Rng } from "../../engine/rng.ts";
import { noGrad } from "../../engine/autograd.ts";
import { AdamW } from "../../engine/optim/adamw.ts";
import { warmupLinear } from "../../engine/optim/schedule.ts";
import { scopeAsync, type Tensor, tensor } from "../../engine/tensor.ts";
import type { PixelTeacher } from "../ports.ts";
import type { PhaseProgress, Progress } from "../progress.ts";
import type { ImageInputs } from "./inputs.ts";
import { trainStep } from "./step.ts";
import type { DualHeadStudent } from "./student.ts";

export interface TrainSettings {
  repeat: number;
  batchSize: number;
  lr: number;
  weightDecay: number;
  /** Warm-up fraction of the steps. */
  warmup: number;
  temperature: number;
}

export interface TrainData {
  labeled: Int32Array;
  unlabeled: Int32Array;
  /** Label of a train-split index. */
  labelOf: (i: number) => number;
  /** Cached teacher logits of a train-split index ([C] view); absent with no teacher. */
  teacherOf?: (i: number) => Float32Array;
  /** Augmented teacher input: the teacher run on every step's batches (instead of `teacherOf`). */
  teacherPixels?: PixelTeacher;
}

export interface TrainStats {
  steps: number;
  /** Loss of each step. */
  losses: number[];
}

function gather(indices: Int32Array, row: (i: number) => Float32Array, width: number) {
  const out = new Float32Array(indices.length * width);
  indices.forEach((i, k) => out.set(row(i), k * width));
  return out;
}

/** The teacher's logits [B, C] of one batch: its forward on `pixels`, or the cached rows. */
function teacherLogits(
  data: TrainData,
  indices: Int32Array,
  pixels: Float32Array | undefined,
  classes: number,
): Tensor {
  const t = data.teacherPixels;
  const B = indices.length;
  if (!t) return tensor(gather(indices, data.teacherOf!, classes), [B, classes]);
  const S = t.input.size;
  const z = noGrad(() => t.logits(tensor(pixels!, [B, 3, S, S])));
  if (z.shape.length !== 2 || z.shape[0] !== B || z.shape[1] !== classes) {
    throw new Error(`the teacher gave logits [${z.shape}] for a batch of ${B}, ${classes} classes`);
  }
  return z;
}

export async function trainDualHead(
  student: DualHeadStudent,
  inputs: ImageInputs,
  data: TrainData,
  settings: TrainSettings,
  rng: Rng,
  progress: Progress,
  label: string,
): Promise<TrainStats> {
  const { batchSize: B, repeat } = settings;
  const C = student.classes;
  const S = inputs.size;
  const steps = labeledSteps(data.labeled.length, B, repeat);
  const batches = labeledBatches(data.labeled, B, repeat, rng.stream("labeled"));
  const pool = new UnlabeledCycler(data.unlabeled, B, rng.stream("unlabeled"));
  const augment = rng.stream("augment");
  const distill = data.teacherOf !== undefined || data.teacherPixels !== undefined;
  const teacherViews = data.teacherPixels ? [data.teacherPixels.input] : [];
  const optimizer = new AdamW(student.parameters(), {
    lr: settings.lr,
    weightDecay: settings.weightDecay,
  });
  const losses: number[] = [];
  let phase: PhaseProgress | undefined;
  student.train();
  try {
    phase = progress.phase(label, steps, "step");
    for (let step = 0; step < steps; step++) {
      const idxL = batches.next().value as Int32Array;
      const idxU = distill ? pool.next() : undefined;
      // [student's, teacher's (augmented teacher input only)] of each batch.
      const xL = await inputs.trainViews(idxL, augment, teacherViews);
      const xU = idxU && await inputs.trainViews(idxU, augment, teacherViews);
      const loss = await scopeAsync(async () => {
        const l = trainStep(
          student,
          optimizer,
          {
            labeled: tensor(xL[0], [B, 3, S, S]),
            labels: tensor(idxL.map(data.labelOf), [B], "i32"),
            distill: idxU && xU
              ? {
                unlabeled: tensor(xU[0], [B, 3, S, S]),
                teacherLabeled: teacherLogits(data, idxL, xL[1], C),
                teacherUnlabeled: teacherLogits(data, idxU, xU[1], C),
              }
              : undefined,
          },
          warmupLinear(step, steps, settings.lr, settings.warmup),
          settings.temperature,
        );
        return await l.item();
      });
      if (!Number.isFinite(loss)) {
        throw new Error(`${label}: the loss became ${loss} at step ${step + 1} of ${steps}`);
      }
      losses.push(loss);
      phase.tick();
    }
  } finally {
    phase?.end();
    optimizer.dispose();
    student.eval();
  }
  return { steps, losses };
}
