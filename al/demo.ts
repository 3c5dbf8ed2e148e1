/**
 * The embedded demo (`akd demo`, `deno task demo`): ActiveKD on Fashion-MNIST, offline.
 *
 * Student: ResNet-18 from scratch at 32×32 (28×28 grey images resized, 3 channels). Strategies
 * PCoreSet and random on the same seed; 1 labeled image per class to start, 10 queries per
 * round, 3 AL rounds. CLIP weights cannot ship with the tool, so the teacher is a classifier the
 * tool trains first on a labeled slice of the train split held out of the AL pool (an MLP:
 * training a ResNet teacher too would not fit the time budget on a CPU), cached after the first
 * run; `--clip DIR` runs the same demo with the real zero-shot CLIP teacher.
 * Sizes (1,000 train images in play, 500 test images, repeat 10) are chosen so the whole demo
 * takes ≤ 10 minutes on a 2-core CPU through llvmpipe (measured; README).
 */
import { resolveConfig, type RunConfig } from "./config.ts";
import { describeClassifier } from "./train/backbones.ts";

export interface DemoOptions {
  out?: string;
  seed?: number;
  /** CLIP weights: use zero-shot CLIP as the teacher instead of the held-out classifier. */
  clip?: string;
}

export const DEMO_SETTINGS = {
  dataset: "fashion-mnist",
  student: "resnet18",
  imageSize: 32,
  strategies: ["random", "pcoreset"],
  shots: 1,
  budget: 10,
  rounds: 3,
  trainSize: 1000,
  testSize: 500,
  repeat: 10,
  teacherHoldout: 2000,
  teacherSteps: 300,
  teacherArch: "mlp",
  teacherWidth: 256,
} as const;

export function demoConfig(o: DemoOptions = {}): RunConfig {
  return resolveConfig(
    {
      ...DEMO_SETTINGS,
      strategies: [...DEMO_SETTINGS.strategies],
      teacher: o.clip ? "clip-zeroshot" : "holdout-classifier",
      ...(o.clip ? { clip: o.clip } : {}),
      seeds: [o.seed ?? 1],
      out: o.out ?? "runs/demo",
    },
    {},
    "demo",
  );
}

/** What the demo is, in a few lines (printed before it starts and kept in the README). */
export function demoPreface(c: RunConfig): string {
  const teacher = c.teacher === "clip-zeroshot"
    ? `zero-shot CLIP from ${c.clip}`
    : `a classifier, ${
      describeClassifier(c.teacherArch, c.teacherWidth)
    }, the tool trains first for ` +
      `${c.teacherSteps} steps on ` +
      `${c.teacherHoldout} labeled train images held out of the pool (cached after the first ` +
      `run; NOT CLIP: pass --clip DIR for the real zero-shot CLIP teacher)`;
  return [
    `ActiveKD demo: ${c.dataset}, student ${c.student} from scratch at ${c.imageSize}×` +
    `${c.imageSize}, strategies ${c.strategies.join(" and ")}, seed ${c.seeds.join(",")}`,
    `  ${c.shots} labeled image per class to start, ${c.budget} queries per round, ` +
    `${c.rounds} AL rounds; ${c.trainSize} train images in play, ${c.testSize} test images, ` +
    `${c.repeat} steps per round (repeat ${c.repeat} × ⌈|L|/${c.batchSize}⌉)`,
    `  teacher: ${teacher}`,
  ].join("\n");
}
