/**
 * A whole `akd run` from a resolved config: opens the dataset, picks the images in play, opens
 * (or trains) the teacher, and runs the loop with GPU students. The engine must be initialised.
 */
import type { RunConfig } from "../config.ts";
import { openDataset } from "../data/open.ts";
import { engine } from "../../engine/context.ts";
import type { Environment } from "../report/types.ts";
import { openTeacher, resolveTeacherInput } from "../teachers/open.ts";
import { checkRunFits } from "./plan.ts";
import type { LogitsCache } from "../teachers/cache.ts";
import { buildStudent, loadPretrainedBackbone } from "../train/backbones.ts";
import { ImageInputs } from "../train/inputs.ts";
import { GpuLearner } from "../train/learner.ts";
import { experimentSplits } from "./experiment_data.ts";
import { type LoopOptions, type LoopOutcome, runLoop } from "./loop.ts";
import { prepareOut, readReport } from "./outdir.ts";
import type { ExperimentData, RoundTeacher, Selector, TeacherInput } from "../ports.ts";
import { type ReplayOutcome, replaySelections } from "./replay.ts";
import type { Dataset } from "../data/image.ts";
import type { WriteFile } from "./checkpoint.ts";
import { type Progress, silentProgress } from "../progress.ts";

export interface ExperimentOptions {
  resume?: boolean;
  force?: boolean;
  progress?: Progress;
  select: Selector;
  /** curve.svg's title. */
  title?: string;
  cache?: LogitsCache;
  onCheckpoint?: (dir: string) => void | Promise<void>;
  /** Writes config.json, each state.json and the report (tests inject a full disk). */
  writeFile?: WriteFile;
  /** Score shards' count and folder (loop.ts). */
  scoreShards?: LoopOptions["scoreShards"];
}

/** The teacher inputs in words (the terminal says which ran). */
export const TEACHER_INPUT_WORDS: Record<TeacherInput, string> = {
  augmented: "the teacher runs on every step's crops and flips",
  cached: "the teacher's logits of the un-augmented images, computed once",
};

export function environment(): Environment {
  const gpu = engine().gpu;
  const a = gpu.adapter;
  return {
    deno: Deno.version.deno,
    backend: gpu.backend,
    adapter: [a.vendor, a.architecture, a.device, a.description].filter((s) => s).join(" "),
    os: `${Deno.build.os} ${Deno.build.arch}`,
  };
}

/** Fresh students as the config says, trained on the GPU (or loaded: `akd score`). */
export function gpuLearner(config: RunConfig, ds: Dataset, data: ExperimentData): GpuLearner {
  const classes = ds.classes.length;
  return new GpuLearner({
    data,
    inputs: new ImageInputs({ train: ds.splits.train, test: ds.splits.test }, {
      size: config.imageSize,
    }),
    build: async (rng) => {
      const student = buildStudent(
        config.student,
        classes,
        config.imageSize,
        rng,
        config.studentWidth,
      );
      // A fresh student per round starts from the pretrained weights (docs/method.md §1).
      if (rng && config.pretrained) {
        try {
          await loadPretrainedBackbone(student.backbone, config.pretrained);
        } catch (e) {
          student.dispose();
          throw e;
        }
      }
      return student;
    },
    settings: config,
  });
}

/** Re-runs the saved selections of the run in `config.out` (see replay.ts). */
export async function replayExperiment(
  config: RunConfig,
  o: { select: Selector; progress?: Progress },
): Promise<ReplayOutcome> {
  const ds = await openDataset(config.dataset);
  const { data } = experimentSplits(ds, config);
  return await replaySelections({
    config,
    data,
    select: o.select,
    progress: o.progress ?? silentProgress,
  });
}

export async function runExperiment(
  config: RunConfig,
  o: ExperimentOptions,
): Promise<LoopOutcome> {
  const progress = o.progress ?? silentProgress;
  // Before anything is written: a teacher that cannot run on pixels is refused here.
  const input = config.teacher === "none"
    ? undefined
    : resolveTeacherInput(config, engine().gpu.adapter.isFallback);
  // Skip, resume or start over before any expensive work.
  if (await prepareOut(config, o) === "done") {
    return { report: await readReport(config.out), skipped: true };
  }
  const ds = await openDataset(config.dataset);
  const { data, held } = experimentSplits(ds, config);
  progress.log(
    `${ds.name}: ${ds.classes.length} classes, ${data.train.length} train images in play, ` +
      `${data.test.length} test` + (held.length ? `, ${held.length} held out for the teacher` : ""),
  );
  // Refuse now, naming the phase and the limit, rather than fail mid-round (al/plan.ts).
  await checkRunFits(
    config,
    { classes: ds.classes.length, train: data.train.length },
    engine().gpu,
  );
  const t0 = performance.now();
  let teacher: RoundTeacher | undefined;
  if (input) {
    progress.log(`teacher input: ${input} (${TEACHER_INPUT_WORDS[input]})`);
    teacher = await openTeacher({ config, ds, data, held, progress, cache: o.cache, input });
  }
  const teacherSeconds = teacher && Number(((performance.now() - t0) / 1000).toFixed(3));
  try {
    return await runLoop({
      config,
      data,
      teacher,
      learner: gpuLearner(config, ds, data),
      select: o.select,
      environment: environment(),
      progress,
      // config.json is written: the loop continues from whatever checkpoints exist.
      resume: true,
      title: o.title,
      teacherSeconds,
      onCheckpoint: o.onCheckpoint,
      writeFile: o.writeFile,
      scoreShards: o.scoreShards,
    });
  } finally {
    teacher?.dispose?.();
  }
}
