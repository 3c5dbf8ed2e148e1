/**
 * The ActiveKD loop (docs/method.md §1): for every seed, the initial few-shot labeled set is
 * shared by all arms (arms.ts), and the round-0 student by all distilled arms (and, separately,
 * by all plain arms); then each arm, round after round, scores the pool with its last student,
 * selects `budget` images, reveals their labels, and trains a fresh student, distilled from the
 * teacher or (plain arms) from the labels alone. A checkpoint follows every round (checkpoint.ts);
 * `resume` continues from them and ends with the same report an uninterrupted run writes.
 *
 * Randomness: everything derives from `Rng.fromSeed(seed)` by stream name — "split" (the
 * initial labels), "round-<r>" (training round r, its "teacher" sub-stream for CLAP: the same
 * streams for every arm, so arms are compared on equal footing), "<strategy>/select"
 * (selection, continued across rounds; its state is checkpointed).
 *
 * What stays on disk: every round's state and selection inputs (selection.ts, kilobytes); the
 * students' weights only until their seed is complete, unless `keepCheckpoints`.
 */
import { join, relative } from "node:path";
import type { RunConfig } from "../config.ts";
import { type Arm, armsOf, NO_TEACHER_SUFFIX } from "../arms.ts";
import { fewShotSplit } from "../data/splits.ts";
import { Rng } from "../../engine/rng.ts";
import { removeIfPresent } from "../../engine/files.ts";
import { buildReport, writeReport } from "../report/report.ts";
import type { Environment, Report, RoundResult } from "../report/types.ts";
import { accuracy, type HeadAccuracies, headAccuracies } from "../train/evaluate.ts";
import {
  completedRounds,
  readState,
  roundDir,
  type RoundState,
  saveStudent,
  STUDENT_FILE,
  type WriteFile,
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
} from "../ports.ts";
import { type Progress, silentProgress } from "../progress.ts";
import { poolOf, saveSelectionInputs, scoreIndices, selectStep } from "./selection.ts";
import { SCORE_REQUEST, SCORES_FILE, scoresPass, shardedScores } from "./scores.ts";
import { CHECKPOINT_VERSION } from "./checkpoint.ts";

export interface LoopOptions {
  config: RunConfig;
  data: ExperimentData;
  /** Absent with `teacher: none` (every arm plain). */
  teacher?: RoundTeacher;
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
  /** Writes config.json, each state.json and the report (tests inject a full disk). */
  writeFile?: WriteFile;
  /**
   * The pool is scored by `count` `akd score` jobs writing shards into `dir` (scores.ts): the
   * run stops at each scoring step (ScoresNeeded) until they are there.
   */
  scoreShards?: { count: number; dir: string };
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
  const first = results.find((r) => r.round === 0 && r.teacher_accuracy !== null);
  const report = buildReport({
    config: config as unknown as Record<string, unknown>,
    environment: o.environment,
    teacher: o.teacher
      ? {
        spec: o.teacher.spec,
        key: o.teacher.key,
        accuracy: first?.teacher_accuracy ?? NaN,
        description: o.teacher.description,
        input: o.teacher.input ?? "cached",
        ...(o.teacherSeconds === undefined ? {} : { seconds: o.teacherSeconds }),
      }
      : { spec: "none", key: NO_TEACHER_KEY, accuracy: null, description: "no teacher" },
    data: {
      dataset: o.data.dataset,
      classes: [...o.data.classes],
      train: o.data.train.length,
      test: o.data.test.length,
      held_out: o.data.heldOut,
    },
    results,
    strategies: armsOf(config).map((a) => a.name),
  });
  await writeReport(config.out, report, o.title ?? `ActiveKD on ${o.data.dataset}`, o.writeFile);
  return { report, skipped: false };
}

/** The teacher key recorded by plain arms' checkpoints. */
const NO_TEACHER_KEY = "none";

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
    const arms = armsOf(config);
    const done = new Map<string, RoundState[]>();
    for (const a of arms) {
      done.set(a.name, await completedRounds(config.out, this.#seed, a.name, config.rounds));
    }
    // Round 0 shared by the distilled arms, and (trained without the teacher) by the plain arms.
    const shared = new Map<boolean, Shared>();
    const results: RoundResult[] = [];
    try {
      for (const arm of arms) {
        const states = done.get(arm.name)!;
        if (states.length === 0 && !shared.has(arm.distill)) {
          shared.set(arm.distill, await this.#sharedRound0(initial, arm.distill));
        }
        results.push(...(await this.#arm(arm, states, initial, shared.get(arm.distill))));
      }
    } finally {
      for (const s of shared.values()) s.student?.dispose();
    }
    if (!config.keepCheckpoints) await this.#dropStudents(arms);
    return results;
  }

  /**
   * The seed is complete: its students' weights are needed no more (a resumed run trains fresh
   * students, and replay re-runs selections from the saved inputs), so they go.
   */
  async #dropStudents(arms: readonly Arm[]): Promise<void> {
    const { out, rounds } = this.#o.config;
    const dirs = [true, false].map((distill) => this.#sharedDir(distill));
    for (const arm of arms) {
      for (let r = 1; r <= rounds; r++) dirs.push(roundDir(out, this.#seed, arm.name, r));
    }
    // With sharded scoring, the merged scores kept beside each student go with it.
    for (const d of dirs) {
      for (const f of [STUDENT_FILE, SCORES_FILE, SCORE_REQUEST]) await removeIfPresent(join(d, f));
    }
  }

  #teacherKey(distill: boolean): string {
    return distill ? this.#o.teacher!.key : NO_TEACHER_KEY;
  }

  /** The shared round 0's folder: the distilled arms' or the plain arms'. */
  #sharedDir(distill: boolean): string {
    const dir = roundDir(this.#o.config.out, this.#seed, undefined, 0);
    return distill ? dir : dir + NO_TEACHER_SUFFIX;
  }

  /** Loads the shared round 0 from its checkpoint, or trains it. */
  async #sharedRound0(labeled: Int32Array, distill: boolean): Promise<Shared> {
    const dir = this.#sharedDir(distill);
    const state = await readState(dir);
    if (state) {
      this.#checkTeacher(state, dir, distill);
      return { state };
    }
    const { student, result } = await this.#trainRound(0, labeled, undefined, undefined, distill);
    await saveStudent(dir, student);
    const fresh: RoundState = {
      version: CHECKPOINT_VERSION,
      seed: this.#seed,
      round: 0,
      teacher_key: this.#teacherKey(distill),
      labeled: Array.from(labeled),
      result,
      student: STUDENT_FILE,
    };
    await writeState(dir, fresh, this.#o.writeFile);
    await this.#o.onCheckpoint?.(dir);
    return { state: fresh, student };
  }

  async #arm(
    arm: Arm,
    states: RoundState[],
    initial: Int32Array,
    shared: Shared | undefined,
  ): Promise<RoundResult[]> {
    const { config } = this.#o;
    const name = arm.name;
    const rows = states.map((s) => s.result);
    const last = states.at(-1);
    if (last) {
      this.#checkTeacher(last, roundDir(config.out, this.#seed, name, last.round), arm.distill);
    }
    let labeled: Int32Array = last
      ? Int32Array.from([...last.labeled, ...last.result.selected])
      : initial;
    let previous: Int32Array | undefined = last ? Int32Array.from(last.labeled) : undefined;
    const rng = last?.rng_after
      ? Rng.fromState(last.rng_after)
      : this.#root.stream(arm.strategy).stream("select");
    for (let r = last ? last.round + 1 : 0; r <= config.rounds; r++) {
      const dir = roundDir(config.out, this.#seed, name, r);
      let student: Student;
      let result: RoundResult;
      let studentPath: string;
      if (r === 0) {
        const sharedDir = this.#sharedDir(arm.distill);
        shared!.student ??= await this.#o.learner.load(join(sharedDir, shared!.state.student));
        student = shared!.student;
        const base = shared!.state.result;
        result = {
          ...base,
          strategy: name,
          selected: [],
          class_counts: base.class_counts.map(() => 0),
          seconds: { ...base.seconds },
        };
        studentPath = join(relative(dir, sharedDir), shared!.state.student);
      } else {
        ({ student, result } = await this.#trainRound(r, labeled, previous, name, arm.distill));
        await saveStudent(dir, student);
        studentPath = STUDENT_FILE;
      }
      try {
        const rngBefore = rng.state();
        if (r < config.rounds) {
          const studentFile = join(dir, studentPath);
          await this.#select(
            arm,
            student,
            studentFile,
            labeled,
            rng,
            result,
            dir,
            r === 0 ? shared : undefined,
          );
        }
        await writeState(dir, {
          version: CHECKPOINT_VERSION,
          seed: this.#seed,
          strategy: name,
          round: r,
          teacher_key: this.#teacherKey(arm.distill),
          labeled: Array.from(labeled),
          result,
          rng_before: rngBefore,
          rng_after: rng.state(),
          student: studentPath,
        }, this.#o.writeFile);
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

  /** Trains a fresh student for round `r` (arm `name`; shared round 0 when undefined). */
  async #trainRound(
    r: number,
    labeled: Int32Array,
    previous: Int32Array | undefined,
    name: string | undefined,
    distill: boolean,
  ): Promise<{ student: Student; result: RoundResult }> {
    const { config, data, teacher, learner } = this.#o;
    const progress = this.#progress;
    const who = name ?? (distill ? "" : "no-teacher");
    const tag = `seed ${this.#seed}${who ? ` ${who}` : ""} round ${r}`;
    let t0 = performance.now();
    const round = this.#root.stream(`round-${r}`);
    const logits = distill
      ? await teacher!.forRound(r, labeled, previous, round.stream("teacher"), progress)
      : undefined;
    const teacherSeconds = seconds(t0);
    t0 = performance.now();
    const student = await learner.train({
      labeled,
      unlabeled: poolOf(data, labeled),
      teacher: logits?.train,
      teacherPixels: logits?.pixels,
      rng: round,
      progress,
      label: `train ${tag}`,
    });
    const trainSeconds = seconds(t0);
    t0 = performance.now();
    const test = await student.predict("test", data.test, progress, `test ${tag}`);
    // A plain student's KD head never trained: its prediction is the CE head's.
    const acc: HeadAccuracies | PlainAccuracies = distill
      ? headAccuracies(test.ce, test.kd, data.testLabels, this.#classes, config.alpha, config.beta)
      : plainAccuracies(accuracy(test.ce, data.testLabels, this.#classes));
    const result: RoundResult = {
      strategy: name ?? "",
      seed: this.#seed,
      round: r,
      labeled: labeled.length,
      pool: data.train.length - labeled.length,
      ...acc,
      teacher_accuracy: logits ? accuracy(logits.test, data.testLabels, this.#classes) : null,
      selected: [],
      class_counts: new Array(this.#classes).fill(0),
      coverage_radius: null,
      coverage_radius_after: null,
      seconds: { teacher: teacherSeconds, train: trainSeconds, eval: seconds(t0) },
    };
    const pct = (v: number | null) => v === null ? "-" : (100 * v).toFixed(1);
    progress.log(
      `${tag}: ${labeled.length} labeled, accuracy ${pct(acc.accuracy)}% ` +
        (distill
          ? `(ce ${pct(acc.accuracy_ce)}, kd ${pct(acc.accuracy_kd)}, ` +
            `teacher ${pct(result.teacher_accuracy)})`
          : "(no teacher: ce head)"),
    );
    return { student, result };
  }

  /** Scores the pool and the labeled set with `student`, selects, and fills `result`. */
  async #select(
    arm: Arm,
    student: Student,
    studentFile: string,
    labeled: Int32Array,
    rng: Rng,
    result: RoundResult,
    dir: string,
    shared?: Shared,
  ): Promise<void> {
    const { config, data } = this.#o;
    const pool = poolOf(data, labeled);
    if (pool.length === 0) return;
    const label = `score seed ${this.#seed} ${arm.name} round ${result.round}`;
    const score = () => this.#score(student, studentFile, scoreIndices(data, labeled), label);
    const step = await selectStep({
      data,
      select: this.#o.select,
      strategy: arm.strategy,
      distill: arm.distill,
      labeled,
      budget: config.budget ?? this.#classes,
      rng,
      // Round 0's student and sets are every strategy's: score them once.
      scores: shared ? () => (shared.scores ??= score()) : score,
    });
    await saveSelectionInputs(dir, arm.strategy, step.inputs);
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
      `seed ${this.#seed} ${arm.name} round ${result.round}: selected ${step.selected.length} ` +
        `in ${step.seconds.select} s (coverage radius ${r(step.radiusBefore)} → ` +
        `${r(step.radiusAfter)}${features})`,
    );
  }

  /** `student`'s scores of `indices`: in this process, or from `scoreShards` jobs. */
  async #score(
    student: Student,
    studentFile: string,
    indices: Int32Array,
    label: string,
  ): Promise<Predictions> {
    const { config, data, scoreShards } = this.#o;
    if (!scoreShards) return await student.predict("train", indices, this.#progress, label);
    return await shardedScores({
      pass: await scoresPass(student, studentFile, data, config.imageSize, indices, label),
      studentFile,
      configFile: join(config.out, "config.json"),
      count: scoreShards.count,
      shards: scoreShards.dir,
      indices,
      progress: this.#progress,
    });
  }

  #checkTeacher(state: RoundState, dir: string, distill: boolean): void {
    const key = this.#teacherKey(distill);
    if (state.teacher_key !== key) {
      throw new Error(
        `${dir}: checkpoint made with teacher ${state.teacher_key}, now ${key}: ` +
          "--force to start over",
      );
    }
  }
}

/** A plain arm's accuracies: its CE head's; no KD head to report. */
interface PlainAccuracies {
  accuracy: number;
  accuracy_ce: number;
  accuracy_kd: null;
}

function plainAccuracies(ce: number): PlainAccuracies {
  return { accuracy: ce, accuracy_ce: ce, accuracy_kd: null };
}
