/**
 * A CPU stand-in for the GPU student, teacher and strategies, so the loop's bookkeeping
 * (shared round 0, checkpoints, resume, skip) is tested in milliseconds. The fake student's
 * predictions depend on the labeled set and on its training RNG, like a real one.
 */
import { resolveConfig, type RunConfig, type RunConfigInput } from "../../../al/config.ts";
import type {
  ExperimentData,
  Learner,
  Predictions,
  RoundTeacher,
  Selector,
  Student,
  TrainArgs,
} from "../../../al/ports.ts";
import type { Environment } from "../../../al/report/types.ts";

export const CLASSES = 4;

export function fakeData(): ExperimentData {
  const trainLabels = Int32Array.from({ length: 120 }, (_, i) => (i * 7) % CLASSES);
  return {
    dataset: "fake",
    classes: ["a", "b", "c", "d"],
    trainLabels,
    // Every third image is held out of play.
    train: Int32Array.from({ length: 120 }, (_, i) => i).filter((i) => i % 3 !== 2),
    test: Int32Array.from({ length: 30 }, (_, i) => i),
    testLabels: Int32Array.from({ length: 30 }, (_, i) => i % CLASSES),
    heldOut: 40,
  };
}

/** A number in [0, 1) from a few integers (a hash, for deterministic fake outputs). */
function hash01(...xs: number[]): number {
  let h = 2166136261;
  for (const x of xs) h = Math.imul(h ^ (x >>> 0), 16777619) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
  return h / 2 ** 32;
}

class FakeStudent implements Student {
  readonly dim = 2;
  disposed = false;
  constructor(
    readonly skill: number,
    readonly salt: number,
    readonly data: ExperimentData,
    readonly learner: FakeLearner,
  ) {}

  predict(split: "train" | "test", indices: Int32Array): Promise<Predictions> {
    if (split === "train") this.learner.scored++;
    const n = indices.length;
    const ce = new Float32Array(n * CLASSES);
    const kd = new Float32Array(n * CLASSES);
    const features = new Float32Array(n * 2);
    indices.forEach((i, k) => {
      const y = split === "train" ? this.data.trainLabels[i] : this.data.testLabels[i];
      const right = hash01(i, this.salt, split === "test" ? 1 : 0) < this.skill;
      ce[k * CLASSES + (right ? y : (y + 1) % CLASSES)] = 2;
      kd[k * CLASSES + (hash01(i, this.salt, 7) < this.skill ? y : (y + 2) % CLASSES)] = 1.5;
      features[2 * k] = hash01(i, 3);
      features[2 * k + 1] = this.skill;
    });
    return Promise.resolve({ ce, kd, features, dim: 2 });
  }

  async save(path: string): Promise<void> {
    await Deno.writeTextFile(path, JSON.stringify({ skill: this.skill, salt: this.salt }));
  }

  dispose(): void {
    this.disposed = true;
  }
}

export class FakeLearner implements Learner {
  trained = 0;
  loaded = 0;
  /** Pool scorings (predictions on train images). */
  scored = 0;
  /** Trainings handed a per-step teacher model (augmented teacher input). */
  withPixels = 0;
  constructor(readonly data: ExperimentData) {}

  train(args: TrainArgs): Promise<Student> {
    this.trained++;
    if (args.teacherPixels) this.withPixels++;
    const init = args.rng.stream("init");
    const skill = Math.min(0.95, 0.3 + 0.02 * args.labeled.length + 0.1 * init.uniform());
    // Distillation matters: the teacher logits change the student.
    const salt = init.int(1000) + (args.teacher ? Math.round(1000 * args.teacher[0]) : 0);
    return Promise.resolve(new FakeStudent(skill, salt, this.data, this));
  }

  async load(path: string): Promise<Student> {
    this.loaded++;
    const { skill, salt } = JSON.parse(await Deno.readTextFile(path));
    return new FakeStudent(skill, salt, this.data, this);
  }
}

export function fakeTeacher(data: ExperimentData): RoundTeacher {
  const logits = (labels: Int32Array) => {
    const out = new Float32Array(labels.length * CLASSES);
    labels.forEach((y, k) => (out[k * CLASSES + (k % 5 === 0 ? (y + 1) % CLASSES : y)] = 3));
    return out;
  };
  return {
    spec: "logits:fake",
    key: "fake-teacher",
    description: "a fake teacher, 80% right",
    forRound: () =>
      Promise.resolve({
        train: logits(data.train.map((i) => data.trainLabels[i])),
        test: logits(data.testLabels),
      }),
  };
}

/** random: a seeded choice; anything else: the least confident rows (first index on ties). */
export const fakeSelect: Selector = (strategy, input, budget, rng) => {
  const n = input.probs.length / input.classes;
  let picks: Int32Array;
  if (strategy === "random") picks = rng.choice(n, budget);
  else {
    const conf = Array.from({ length: n }, (_, i) => {
      let m = 0;
      for (let c = 0; c < input.classes; c++) m = Math.max(m, input.probs[i * input.classes + c]);
      return m;
    });
    picks = Int32Array.from(
      conf.map((c, i) => [c, i]).sort((a, b) => a[0] - b[0] || a[1] - b[1]).slice(0, budget)
        .map(([, i]) => i),
    );
  }
  return Promise.resolve({ picks, radiusBefore: 0.5, radiusAfter: 0.25 });
};

export const ENV: Environment = { deno: "test", backend: "none", adapter: "cpu", os: "test" };

export function fakeConfig(out: string, over: RunConfigInput = {}): RunConfig {
  return resolveConfig({
    dataset: "fake",
    teacher: "logits:fake",
    strategies: ["random", "pcoreset"],
    rounds: 3,
    budget: 4,
    seeds: [1, 2],
    out,
    ...over,
  });
}
