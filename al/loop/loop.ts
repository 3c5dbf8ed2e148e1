/**
 * The ActiveKD loop (METHOD.md §1): for every seed, the initial few-shot labeled set and the
 * round-0 student are shared by all strategies; then each strategy, round after round, scores
 * the pool with its last student, selects `budget` images, reveals their labels, and trains a
 * fresh student distilled from the teacher. A checkpoint follows every round (checkpoint.ts);
 * `resume` continues from them and ends with the same report an uninterrupted run writes.
 *
 * Randomness: everything derives from `Rng.fromSeed(seed)` by stream name — "split" (the
 * initial labels), "round-<r>" (training round r, its "teacher" sub-stream for CLAP: the same
 * streams for every strategy, so strategies are compared on equal footing), "<strategy>/select" (selection, continued across
 * rounds; its state is checkpointed).
 */
import { join } from "node:path";
import type { RunConfig, StrategyName } from "../config.ts";
import { fewShotSplit } from "../data/splits.ts";
import { Rng } from "../../engine/rng.ts";
import { buildReport, writeReport } from "../report/report.ts";
import type { Environment, Report, RoundResult } from "../report/types.ts";
import { accuracy, headAccuracies } from "../train/evaluate.ts";
import {
  completedRounds,
  readState,
  roundDir,
  type RoundState,
  STUDENT_FILE,
  writeState,
} from "./checkpoint.ts";
import { prepareOut, readReport } from "./outdir.ts";
import type {
  ExperimentData,
  Learner,
  Predictions,
  RoundTeacher,
  Selector,
  Student,
} from "./ports.ts";
import { type Progress, silentProgress } from "./progress.ts";
import { poolOf, selectStep } from "./selection.ts";
import { CHECKPOINT_VERSION } from "./checkpoint.ts";

export interface LoopOptions {
  config: RunConfig;
  data: ExperimentData;
  teacher: RoundTeacher;
  learner: Learner;
  select: Selector;
  environment: Environment;
  progress?: Progress;
  resume?: boolean;
  force?: boolean;
  /** The title of curve.svg. */
  title?: string;
  /** Wall seconds spent opening the teacher before the loop (reported). */
  teacherSeconds?: number;
  /** Called after every checkpoint is written (tests stop a run here). */
  onCheckpoint?: (dir: string) => void | Promise<void>;
}

export interface LoopOutcome {
  report: Report;
  /** True when the run had already finished and nothing was done. */
  skipped: boolean;
}

const seconds = (t0: number) => Number(((performance.now() - t0) / 1000).toFixed(3));

export async function runLoop(o: LoopOptions): Promise<LoopOutcome> {
  const { config } = o;
  const outState = await prepareOut(config, o);
  if (outState === "done") return { report: await readReport(config.out), skipped: true };
  const results: RoundResult[] = [];
  for (const seed of config.seeds) results.push(...(await new SeedRun(o, seed).run()));
  const first = results.find((r) => r.round === 0);
  const report = buildReport({
    config: config as unknown as Record<string, unknown>,
    environment: o.environment,
    teacher: {
      spec: o.teacher.spec,
      key: o.teacher.key,
      accuracy: first?.teacher_accuracy ?? NaN,
      description: o.teacher.description,
      ...(o.teacherSeconds === undefined ? {} : { seconds: o.teacherSeconds }),
    },
    data: {
      dataset: o.data.dataset,
      classes: [...o.data.classes],
      train: o.data.train.length,
      test: o.data.test.length,
      held_out: o.data.heldOut,
    },
    results,
    strategies: config.strategies,
  });
  await writeReport(config.out, report, o.title ?? `ActiveKD on ${o.data.dataset}`);
  return { report, skipped: false };
}

/** Round 0 of a seed: its state, and the student while it is in memory. */
interface Shared {
  state: RoundState;
  student?: Student;
  /** Its scores of the pool and the labeled set (the same for every strategy). */
  scores?: Promise<Predictions>;
}

class SeedRun {
  readonly #o: LoopOptions;
  readonly #seed: number;
  readonly #root: Rng;
  readonly #progress: Progress;
  readonly #classes: number;

  constructor(o: LoopOptions, seed: number) {
    this.#o = o;
    this.#seed = seed;
    this.#root = Rng.fromSeed(seed);
    this.#progress = o.progress ?? silentProgress;
    this.#classes = o.data.classes.length;
  }

  async run(): Promise<RoundResult[]> {
    const { config, data } = this.#o;
    const inPlay = data.train.map((i) => data.trainLabels[i]);
    const split = fewShotSplit(inPlay, config.shots, this.#root.stream("split"));
    const initial = split.labeled.map((k) => data.train[k]);
    const done = new Map<string, RoundState[]>();
    for (const s of config.strategies) {
      done.set(s, await completedRounds(config.out, this.#seed, s, config.rounds));
    }
    let shared: Shared | undefined;
    const results: RoundResult[] = [];
    try {
      for (const strategy of config.strategies) {
        const states = done.get(strategy)!;
        if (states.length === 0) shared ??= await this.#sharedRound0(initial);
        results.push(...(await this.#strategy(strategy, states, initial, shared)));
      }
    } finally {
      shared?.student?.dispose();
    }
    return results;
  }

  /** Loads the shared round 0 from its checkpoint, or trains it. */
  async #sharedRound0(labeled: Int32Array): Promise<Shared> {
    const dir = roundDir(this.#o.config.out, this.#seed, undefined, 0);
    const state = await readState(dir);
    if (state) {
      this.#checkTeacher(state, dir);
      return { state };
    }
    const { student, result } = await this.#trainRound(0, labeled, undefined, "");
    await Deno.mkdir(dir, { recursive: true });
    await student.save(join(dir, STUDENT_FILE));
    const fresh: RoundState = {
      version: CHECKPOINT_VERSION,
      seed: this.#seed,
      round: 0,
      teacher_key: this.#o.teacher.key,
      labeled: Array.from(labeled),
      result,
      student: STUDENT_FILE,
    };
    await writeState(dir, fresh);
    await this.#o.onCheckpoint?.(dir);
    return { state: fresh, student };
  }

  async #strategy(
    strategy: StrategyName,
    states: RoundState[],
    initial: Int32Array,
    shared: Shared | undefined,
  ): Promise<RoundResult[]> {
    const { config } = this.#o;
    const rows = states.map((s) => s.result);
    const last = states.at(-1);
    if (last) this.#checkTeacher(last, roundDir(config.out, this.#seed, strategy, last.round));
    let labeled: Int32Array = last
      ? Int32Array.from([...last.labeled, ...last.result.selected])
      : initial;
    let previous: Int32Array | undefined = last ? Int32Array.from(last.labeled) : undefined;
    const rng = last?.rng_after
      ? Rng.fromState(last.rng_after)
      : this.#root.stream(strategy).stream("select");
    for (let r = last ? last.round + 1 : 0; r <= config.rounds; r++) {
      const dir = roundDir(config.out, this.#seed, strategy, r);
      let student: Student;
      let result: RoundResult;
      let studentPath: string;
      if (r === 0) {
        const sharedDir = roundDir(config.out, this.#seed, undefined, 0);
        shared!.student ??= await this.#o.learner.load(join(sharedDir, shared!.state.student));
        student = shared!.student;
        const base = shared!.state.result;
        result = {
          ...base,
          strategy,
          selected: [],
          class_counts: base.class_counts.map(() => 0),
          seconds: { ...base.seconds },
        };
        studentPath = join("..", "..", "round-0", shared!.state.student);
      } else {
        ({ student, result } = await this.#trainRound(r, labeled, previous, strategy));
        await Deno.mkdir(dir, { recursive: true });
        await student.save(join(dir, STUDENT_FILE));
        studentPath = STUDENT_FILE;
      }
      try {
        const rngBefore = rng.state();
        if (r < config.rounds) {
          await this.#select(strategy, student, labeled, rng, result, r === 0 ? shared : undefined);
        }
        await writeState(dir, {
          version: CHECKPOINT_VERSION,
          seed: this.#seed,
          strategy,
          round: r,
          teacher_key: this.#o.teacher.key,
          labeled: Array.from(labeled),
          result,
          rng_before: rngBefore,
          rng_after: rng.state(),
          student: studentPath,
        });
      } finally {
        if (r > 0) student.dispose();
      }
      await this.#o.onCheckpoint?.(dir);
      rows.push(result);
      previous = labeled;
      labeled = Int32Array.from([...labeled, ...result.selected]);
    }
    return rows;
  }

  /** Trains a fresh student for round `r` and measures it on the test set. */
  async #trainRound(
    r: number,
    labeled: Int32Array,
    previous: Int32Array | undefined,
    strategy: string,
  ): Promise<{ student: Student; result: RoundResult }> {
    const { config, data, teacher, learner } = this.#o;
    const progress = this.#progress;
    const tag = `seed ${this.#seed}${strategy ? ` ${strategy}` : ""} round ${r}`;
    let t0 = performance.now();
    const round = this.#root.stream(`round-${r}`);
    const logits = await teacher.forRound(r, labeled, previous, round.stream("teacher"), progress);
    const teacherSeconds = seconds(t0);
    t0 = performance.now();
    const student = await learner.train({
      labeled,
      unlabeled: poolOf(data, labeled),
      teacher: logits.train,
      rng: round,
      progress,
      label: `train ${tag}`,
    });
    const trainSeconds = seconds(t0);
    t0 = performance.now();
    const test = await student.predict("test", data.test, progress, `test ${tag}`);
    const acc = headAccuracies(
      test.ce,
      test.kd,
      data.testLabels,
      this.#classes,
      config.alpha,
      config.beta,
    );
    const result: RoundResult = {
      strategy,
      seed: this.#seed,
      round: r,
      labeled: labeled.length,
      pool: data.train.length - labeled.length,
      ...acc,
      teacher_accuracy: accuracy(logits.test, data.testLabels, this.#classes),
      selected: [],
      class_counts: new Array(this.#classes).fill(0),
      coverage_radius: null,
      coverage_radius_after: null,
      seconds: { teacher: teacherSeconds, train: trainSeconds, eval: seconds(t0) },
    };
    progress.log(
      `${tag}: ${labeled.length} labeled, accuracy ${(100 * acc.accuracy).toFixed(1)}% ` +
        `(ce ${(100 * acc.accuracy_ce).toFixed(1)}, kd ${(100 * acc.accuracy_kd).toFixed(1)}, ` +
        `teacher ${(100 * result.teacher_accuracy).toFixed(1)})`,
    );
    return { student, result };
  }

  /** Scores the pool and the labeled set with `student`, selects, and fills `result`. */
  async #select(
    strategy: StrategyName,
    student: Student,
    labeled: Int32Array,
    rng: Rng,
    result: RoundResult,
    shared?: Shared,
  ): Promise<void> {
    const { config, data } = this.#o;
    const pool = poolOf(data, labeled);
    if (pool.length === 0) return;
    const label = `score seed ${this.#seed} ${strategy} round ${result.round}`;
    const step = await selectStep({
      data,
      select: this.#o.select,
      strategy,
      student,
      labeled,
      budget: config.budget ?? this.#classes,
      rng,
      progress: this.#progress,
      label,
      // Round 0's student and sets are every strategy's: score them once.
      scores: shared
        ? () =>
          shared.scores ??= student.predict(
            "train",
            Int32Array.from([...pool, ...labeled]),
            this.#progress,
            label,
          )
        : undefined,
    });
    Object.assign(result.seconds, step.seconds);
    result.selected = step.selected;
    for (const i of result.selected) result.class_counts[data.trainLabels[i]]++;
    result.coverage_radius = step.radiusBefore;
    result.coverage_radius_after = step.radiusAfter;
    if (step.featureRadiusBefore !== undefined) {
      result.feature_coverage_radius = step.featureRadiusBefore;
      result.feature_coverage_radius_after = step.featureRadiusAfter;
    }
    const r = (v: number | null | undefined) => (v == null ? "-" : v.toFixed(3));
    const features = step.featureRadiusBefore === undefined
      ? ""
      : `; features ${r(step.featureRadiusBefore)} → ${r(step.featureRadiusAfter)}`;
    this.#progress.log(
      `seed ${this.#seed} ${strategy} round ${result.round}: selected ${step.selected.length} ` +
        `in ${step.seconds.select} s (coverage radius ${r(step.radiusBefore)} → ` +
        `${r(step.radiusAfter)}${features})`,
    );
  }

  #checkTeacher(state: RoundState, dir: string): void {
    if (state.teacher_key !== this.#o.teacher.key) {
      throw new Error(
        `${dir}: checkpoint made with teacher ${state.teacher_key}, ` +
          `now ${this.#o.teacher.key}: --force to start over`,
      );
    }
  }
}
