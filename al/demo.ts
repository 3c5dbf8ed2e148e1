/**
 * The embedded demo (`akd demo`, `deno task demo`): ActiveKD on Fashion-MNIST, offline, three
 * arms over three seeds, so the report shows what the method does (docs/method.md):
 *   - `random` and `pcoreset` distilled from the teacher (ActiveKD), and
 *   - `random-no-teacher`: plain active learning on the same labels (the KD lift).
 * 1 labeled image per class to start, 30 queries per round (10, 40, 70 labels). Steps per round
 * grow with the labeled set (repeat · ⌈|L| / batch⌉, docs/method.md §1): at the cpu sizes 40, 80
 * and 120, so the training time goes where the labels are.
 *
 * Two size profiles. `paper` (the default on a hardware adapter): full ResNet-18 at 32×32,
 * repeat 200, batch 64. `cpu` (the default on a software adapter such as llvmpipe): ResNet-18
 * narrowed to width 16 at 16×16, repeat 40 of batch 32 with a higher learning rate — the
 * sizes that let the whole demo finish within 6 minutes on a 2-core CPU (measured; README).
 * CLIP weights cannot ship with the tool, so the teacher is a classifier the tool trains first
 * on a labeled slice of the train split held out of the pool (an MLP), cached after the first
 * run; `--clip DIR` runs the same demo with the real zero-shot CLIP teacher.
 */
import { resolveConfig, type RunConfig } from "./config.ts";
import { describeClassifier } from "./train/backbones.ts";

export const DEMO_PROFILES = ["cpu", "paper"] as const;
export type DemoProfile = (typeof DEMO_PROFILES)[number];

/** What both profiles share. */
export const DEMO_SETTINGS = {
  dataset: "fashion-mnist",
  student: "resnet18",
  strategies: ["random", "pcoreset"],
  baselines: ["random"],
  shots: 1,
  budget: 30,
  rounds: 2,
  trainSize: 2000,
  testSize: 500,
  teacherHoldout: 2000,
  teacherSteps: 300,
  teacherArch: "mlp",
  teacherWidth: 256,
  seeds: [1, 2, 3],
} as const;

/** The sizes that differ between a CPU and a GPU. */
export const DEMO_SIZES: Record<
  DemoProfile,
  { studentWidth: number; imageSize: number; repeat: number; batchSize: number; lr: number }
> = {
  cpu: { studentWidth: 16, imageSize: 16, repeat: 40, batchSize: 32, lr: 3e-3 },
  paper: { studentWidth: 64, imageSize: 32, repeat: 200, batchSize: 64, lr: 1e-3 },
};

export interface DemoOptions {
  out?: string;
  seeds?: number[];
  /** CLIP weights: use zero-shot CLIP as the teacher instead of the held-out classifier. */
  clip?: string;
  profile?: DemoProfile;
}

export function demoConfig(o: DemoOptions = {}): RunConfig {
  return resolveConfig(
    {
      ...DEMO_SETTINGS,
      ...DEMO_SIZES[o.profile ?? "cpu"],
      strategies: [...DEMO_SETTINGS.strategies],
      baselines: [...DEMO_SETTINGS.baselines],
      seeds: o.seeds ?? [...DEMO_SETTINGS.seeds],
      teacher: o.clip ? "clip-zeroshot" : "holdout-classifier",
      ...(o.clip ? { clip: o.clip } : {}),
      out: o.out ?? "runs/demo",
    },
    {},
    "demo",
  );
}

/** What the demo is, in a few lines (printed before it starts). */
export function demoPreface(c: RunConfig, profile: DemoProfile): string {
  const teacher = c.teacher === "clip-zeroshot"
    ? `zero-shot CLIP from ${c.clip}`
    : `a classifier, ${describeClassifier(c.teacherArch, c.teacherWidth)}, the tool trains ` +
      `first for ${c.teacherSteps} steps on ${c.teacherHoldout} labeled train images held out ` +
      "of the pool (cached after the first run; NOT CLIP: pass --clip DIR for the real " +
      "zero-shot CLIP teacher)";
  return [
    `ActiveKD demo (${profile} sizes): ${c.dataset}, student ${c.student} (width ` +
    `${c.studentWidth}) from scratch at ${c.imageSize}×${c.imageSize}, seeds ${c.seeds.join(",")}`,
    `  arms: ${c.strategies.join(" and ")} distilled from the teacher (ActiveKD), and ` +
    `${c.baselines.map((s) => `${s}-no-teacher`).join(", ")} (plain active learning)`,
    `  ${c.shots} labeled image per class to start, ${c.budget} queries per round, ` +
    `${c.rounds} AL rounds; ${c.trainSize} train images in play, ${c.testSize} test images, ` +
    `${c.repeat} · ⌈labeled / ${c.batchSize}⌉ steps of ${c.batchSize} per round, AdamW lr ${c.lr}`,
    `  teacher: ${teacher}`,
  ].join("\n");
}
