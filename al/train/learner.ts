/**
 * The GPU learner behind the AL loop: every round a fresh dual-head student (built by `build`
 * from the round's "init" stream), trained on the round's labeled and unlabeled sets with the
 * teacher's logits; saved and loaded as safetensors with PyTorch-style names.
 */
import { loadSafetensorsInto } from "../../engine/nn/load.ts";
import type { Module } from "../../engine/nn/module.ts";
import type { Rng } from "../../engine/rng.ts";
import { type HostTensor, saveSafetensors } from "../../engine/safetensors.ts";
import type { ExperimentData, Learner, Predictions, Student, TrainArgs } from "../ports.ts";
import type { Progress } from "../progress.ts";
import type { ImageInputs } from "./inputs.ts";
import { predictDualHead } from "./predict.ts";
import type { DualHeadStudent } from "./student.ts";
import { trainDualHead, type TrainSettings } from "./trainer.ts";

/** Reads a module's state dict to the host and writes it atomically. */
export async function saveModule(module: Module, path: string): Promise<void> {
  const tensors = new Map<string, HostTensor>();
  for (const [name, t] of module.stateDict()) {
    if (t.dtype !== "f32" && t.dtype !== "i32") {
      throw new Error(`saveModule: ${name} is ${t.dtype}; only f32 and i32 are saved`);
    }
    const data = await t.read() as Float32Array | Int32Array;
    tensors.set(name, { dtype: t.dtype, shape: [...t.shape], data });
  }
  await saveSafetensors(path, tensors);
}

export class GpuStudent implements Student {
  constructor(readonly model: DualHeadStudent, readonly inputs: ImageInputs) {}

  get dim(): number {
    return this.model.backbone.featureDim;
  }

  predict(
    split: "train" | "test",
    indices: Int32Array,
    progress: Progress,
    label: string,
  ): Promise<Predictions> {
    return predictDualHead(this.model, this.inputs, split, indices, progress, label);
  }

  save(path: string): Promise<void> {
    return saveModule(this.model, path);
  }

  dispose(): void {
    this.model.dispose();
  }
}

export interface GpuLearnerOptions {
  data: ExperimentData;
  inputs: ImageInputs;
  /** A fresh student: initialised from `rng`, or zeros (to be loaded) without one. */
  build: (rng?: Rng) => DualHeadStudent | Promise<DualHeadStudent>;
  settings: TrainSettings;
}

export class GpuLearner implements Learner {
  readonly #o: GpuLearnerOptions;
  /** Row of each in-play train index in the teacher's logits. */
  readonly #row = new Map<number, number>();

  constructor(o: GpuLearnerOptions) {
    this.#o = o;
    o.data.train.forEach((i, k) => this.#row.set(i, k));
  }

  async train(args: TrainArgs): Promise<Student> {
    const { data, inputs, settings } = this.#o;
    const C = data.classes.length;
    const teacher = args.teacher;
    const model = await this.#o.build(args.rng.stream("init"));
    try {
      await trainDualHead(
        model,
        inputs,
        {
          labeled: args.labeled,
          unlabeled: args.unlabeled,
          labelOf: (i) => data.trainLabels[i],
          // Augmented teacher input: the teacher's forward on each step's crops replaces its rows.
          teacherPixels: args.teacherPixels,
          teacherOf: !args.teacherPixels && teacher
            ? ((i) => {
              const k = this.#row.get(i);
              if (k === undefined) throw new Error(`train index ${i} is not in play`);
              return teacher.subarray(k * C, (k + 1) * C);
            })
            : undefined,
        },
        settings,
        args.rng,
        args.progress,
        args.label,
      );
    } catch (e) {
      model.dispose();
      throw e;
    }
    return new GpuStudent(model, inputs);
  }

  async load(path: string): Promise<Student> {
    const model = await this.#o.build();
    try {
      await loadSafetensorsInto(model, path);
    } catch (e) {
      model.dispose();
      throw e;
    }
    return new GpuStudent(model, this.#o.inputs);
  }
}
