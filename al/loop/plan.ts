/**
 * `akd plan`: the device memory each phase of a run needs, found by walking the phase's real
 * code on a meta engine (engine/meta_device.ts: same pool, stream and kernel choices as the
 * adapter, no memory, no kernels), so the figures are the pool's own peak live bytes for the
 * configured models, batch, pool size and classes, not a formula beside the code. Each phase is
 * checked against the adapter's per-buffer limits (maxBufferSize, maxStorageBufferBindingSize)
 * and, when one is given, a device memory budget (WebGPU does not expose the adapter's memory),
 * with the largest batch that fits. docs/cli.md ("plan") describes the output.
 */
import { InputError } from "../../engine/errors.ts";
import { type AdapterLike, type MetaNeed, walk } from "../../engine/meta_device.ts";
import { noGrad } from "../../engine/autograd.ts";
import { AdamW } from "../../engine/optim/adamw.ts";
import { backward } from "../../engine/ops/backward.ts";
import { crossEntropy } from "../../engine/ops/softmax.ts";
import { Rng } from "../../engine/rng.ts";
import { loadSafetensors } from "../../engine/safetensors.ts";
import { empty, scope } from "../../engine/tensor.ts";
import { CLIP } from "../../models/clip/clip.ts";
import { zeroShotLogits } from "../../models/clip/zeroshot.ts";
import type { RunConfig } from "../config.ts";
import { strategySelector } from "./select.ts";
import { strategy as strategyNamed } from "../strategies/mod.ts";
import { findClipFiles } from "../teachers/clip_zeroshot.ts";
import { resolveTeacherInput } from "../teachers/open.ts";
import { buildClassifier, buildStudent, classifierShape } from "../train/backbones.ts";
import { PREDICT_BATCH } from "../train/predict.ts";
import { trainStep } from "../train/step.ts";
import { TEACHER_BATCH } from "../teachers/model_teacher.ts";

export type PhaseName = "teacher" | "train" | "score" | "select";

export type { AdapterLike, MetaNeed };

export interface PhasePlan extends MetaNeed {
  phase: PhaseName;
  /** The phase in words, e.g. "resnet18 student: one training step (ActiveKD loss, AdamW)". */
  what: string;
  /** The batch the run uses (absent for selection, which chunks by the binding limit). */
  batch?: number;
  /** The largest batch that fits the limits (null: not even 1; absent for selection). */
  maxBatch?: number | null;
  /** The first limit the phase exceeds at the run's settings, in words; absent when it fits. */
  exceeds?: string;
}

export interface PlanLimits {
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
  /** A device memory budget in bytes (given by the user; WebGPU does not expose one). */
  memory?: number;
}

export interface RunPlan {
  backend: string;
  adapter: string;
  limits: PlanLimits;
  classes: number;
  /** Pool rows at round 0 (the largest pool) and labeled rows after the last round. */
  pool: number;
  labeled: number;
  phases: PhasePlan[];
}

/** What the plan needs to know of the data: classes and the images in play. */
export interface PlanData {
  classes: number;
  /** Train images in play (pool + initial labels). */
  train: number;
}

/** Largest batch tried when searching upward (a phase that fits it reports it). */
export const MAX_SEARCH_BATCH = 1 << 16;

/** Sizes for people: B, KiB, MiB or GiB. */
export function bytesText(b: number): string {
  if (b < 2 ** 10) return `${b} B`;
  if (b < 2 ** 20) return `${(b / 2 ** 10).toFixed(1)} KiB`;
  if (b < 2 ** 30) return `${(b / 2 ** 20).toFixed(1)} MiB`;
  return `${(b / 2 ** 30).toFixed(2)} GiB`;
}

/** The first limit `need` exceeds, in words, or undefined. */
export function exceeded(need: MetaNeed, limits: PlanLimits): string | undefined {
  if (need.refused !== undefined) return need.refused;
  if (need.largestBuffer > limits.maxBufferSize) {
    return `a ${bytesText(need.largestBuffer)} buffer exceeds maxBufferSize ` +
      `(${bytesText(limits.maxBufferSize)})`;
  }
  if (need.largestBinding > limits.maxStorageBufferBindingSize) {
    return `a ${bytesText(need.largestBinding)} binding exceeds maxStorageBufferBindingSize ` +
      `(${bytesText(limits.maxStorageBufferBindingSize)})`;
  }
  if (limits.memory !== undefined && need.deviceBytes > limits.memory) {
    return `${bytesText(need.deviceBytes)} of buffers exceed the device memory budget ` +
      `(${bytesText(limits.memory)})`;
  }
  return undefined;
}

/** A phase whose need grows with its batch: walked at `batch`, and searched for the largest. */
interface BatchedPhase {
  phase: PhaseName;
  what: string;
  batch: number;
  /** One walk of the phase at batch `b` (runs on the meta engine). */
  run: (b: number) => Promise<void> | void;
}

async function planBatched(
  like: AdapterLike,
  limits: PlanLimits,
  p: BatchedPhase,
  search: boolean,
): Promise<PhasePlan> {
  const at = (b: number) => walk(like, () => p.run(b));
  const need = await at(p.batch);
  const exceeds = exceeded(need, limits);
  const plan: PhasePlan = { phase: p.phase, what: p.what, batch: p.batch, ...need, exceeds };
  if (search) plan.maxBatch = await largestBatch(at, limits, p.batch, exceeds === undefined);
  return plan;
}

/** The largest batch whose walk fits (null when batch 1 does not): doubling, then bisection. */
async function largestBatch(
  at: (b: number) => Promise<MetaNeed>,
  limits: PlanLimits,
  start: number,
  startFits: boolean,
): Promise<number | null> {
  const fits = async (b: number) => exceeded(await at(b), limits) === undefined;
  let lo = 0; // fits (0: nothing known)
  let hi: number; // does not fit
  if (startFits) {
    lo = start;
    let b = start;
    for (;;) {
      if (b >= MAX_SEARCH_BATCH) return MAX_SEARCH_BATCH;
      b = Math.min(2 * b, MAX_SEARCH_BATCH);
      if (!(await fits(b))) break;
      lo = b;
    }
    hi = b;
  } else {
    hi = start;
  }
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (await fits(mid)) lo = mid;
    else hi = mid;
  }
  return lo === 0 ? null : lo;
}

/** Sizes of the loop: pool at round 0, labeled rows after the last round. */
function loopSizes(config: RunConfig, data: PlanData) {
  const C = data.classes;
  const initial = C * config.shots;
  const budget = config.budget ?? C;
  return {
    pool: data.train - initial,
    labeled: Math.min(data.train, initial + config.rounds * budget),
  };
}

/**
 * What the teacher keeps on the device for the whole run, made on the meta engine beside the
 * student's phases: CLIP for CLAP and Tip-Adapter-F (refitted every round), and with the
 * augmented teacher input the teacher's model, whose `logits` the training step runs on each of
 * its two batches.
 */
type Resident = () => { dispose(): void; logits?: (batch: number) => void };

function studentPhases(config: RunConfig, C: number, resident?: Resident): BatchedPhase[] {
  const S = config.imageSize;
  const student = () => buildStudent(config.student, C, S, undefined, config.studentWidth);
  const distill = config.teacher !== "none";
  return [{
    phase: "train",
    what: `${config.student} student: one training step (${
      distill ? "ActiveKD loss on a labeled and an unlabeled batch" : "CE on a labeled batch"
    }, AdamW)`,
    batch: config.batchSize,
    run: (b) => {
      const held = resident?.();
      const model = student();
      const optimizer = new AdamW(model.parameters(), {
        lr: config.lr,
        weightDecay: config.weightDecay,
      });
      model.train();
      scope(() => {
        // The teacher's targets: its per-step forward (augmented input), else cached rows.
        const targets = () => {
          held?.logits?.(b);
          return empty([b, C]);
        };
        trainStep(
          model,
          optimizer,
          {
            labeled: empty([b, 3, S, S]),
            labels: empty([b], "i32"),
            distill: distill
              ? {
                unlabeled: empty([b, 3, S, S]),
                teacherLabeled: targets(),
                teacherUnlabeled: targets(),
              }
              : undefined,
          },
          config.lr,
          config.temperature,
        );
      });
      optimizer.dispose();
      model.dispose();
      held?.dispose();
    },
  }, {
    phase: "score",
    what: `${config.student} student: eval forward of a batch of pool images (both heads)`,
    batch: PREDICT_BATCH,
    run: (b) => {
      const held = resident?.();
      const model = student();
      model.eval();
      noGrad(() => scope(() => model.forward(empty([b, 3, S, S]))));
      model.dispose();
      held?.dispose();
    },
  }];
}

/** A classifier teacher held for the per-step forward (augmented input): eval, no gradients. */
function heldClassifier(make: () => ReturnType<typeof buildClassifier>, S: number): Resident {
  return () => {
    const model = make();
    model.eval();
    return {
      dispose: () => model.dispose(),
      logits: (b) => noGrad(() => model.forward(empty([b, 3, S, S]))),
    };
  };
}

/**
 * The teacher's device phase, if it has one (logits files and `none` have none), and what it
 * keeps on the device all run; `augmented`: the teacher also runs in every training step.
 */
async function teacherPhase(
  config: RunConfig,
  C: number,
  augmented: boolean,
): Promise<{ phase?: BatchedPhase; resident?: Resident }> {
  const spec = config.teacher;
  const S = config.imageSize;
  if (spec === "none" || spec.startsWith("logits:")) return {};
  if (spec === "holdout-classifier") {
    const make = () =>
      buildClassifier(config.teacherArch, C, { width: config.teacherWidth, imageSize: S });
    return {
      resident: augmented ? heldClassifier(make, S) : undefined,
      phase: {
        phase: "teacher",
        what: `holdout ${config.teacherArch} teacher: one training step (CE, AdamW)`,
        batch: config.batchSize,
        run: (b) => {
          const model = buildClassifier(config.teacherArch, C, {
            width: config.teacherWidth,
            imageSize: S,
          });
          const optimizer = new AdamW(model.parameters(), {
            lr: config.lr,
            weightDecay: config.weightDecay,
          });
          model.train();
          scope(() => {
            const l = crossEntropy(model.forward(empty([b, 3, S, S])), empty([b], "i32"));
            optimizer.zeroGrad();
            backward(l);
            optimizer.step();
            optimizer.zeroGrad();
          });
          optimizer.dispose();
          model.dispose();
        },
      },
    };
  }
  if (spec.startsWith("classifier:")) {
    const path = spec.slice("classifier:".length);
    const { tensors } = await loadSafetensors(path);
    const shape = classifierShape(tensors, path);
    return {
      resident: augmented
        ? heldClassifier(() => buildClassifier(shape.arch, C, shape), S)
        : undefined,
      phase: {
        phase: "teacher",
        what: `${shape.arch} classifier teacher: eval forward of a batch`,
        batch: TEACHER_BATCH,
        run: (b) => {
          const model = buildClassifier(shape.arch, C, shape);
          model.eval();
          noGrad(() => scope(() => model.forward(empty([b, 3, S, S]))));
          model.dispose();
        },
      },
    };
  }
  // The CLIP teachers: zero-shot logits, or the image features CLAP and Tip-Adapter-F fit on.
  // Without weights there is nothing to plan; opening the teacher says what is missing.
  if (!config.clip) return {};
  const { tensors } = await loadSafetensors((await findClipFiles(config.clip)).weights);
  const zeroShot = spec === "clip-zeroshot";
  const clipPath = config.clip;
  // CLAP also keeps its class weights (raw and normalised, [E, C] each); zero-shot CLIP is held
  // only for the augmented input, with its class weights. Per step: the image tower at its
  // resolution and the [E, C] head (Tip-Adapter-F's cache affinities, [K, E] · [E, B] with K the
  // few augmented labeled views, are not walked).
  const resident: Resident | undefined = zeroShot && !augmented ? undefined : () => {
    const clip = CLIP.fromStateDict(tensors, clipPath);
    const { embedDim: E, imageResolution: R } = clip.config;
    const weights = spec === "clap"
      ? [empty([E, C]), empty([E, C])]
      : augmented
      ? [empty([E, C])]
      : [];
    return {
      dispose: () => [clip, ...weights].forEach((t) => t.dispose()),
      logits: augmented
        ? (b) => noGrad(() => zeroShotLogits(clip.encodeImage(empty([b, 3, R, R])), weights[0]))
        : undefined,
    };
  };
  return {
    resident,
    phase: {
      phase: "teacher",
      what: `CLIP image tower: ${zeroShot ? "zero-shot logits" : "features"} of a batch`,
      batch: TEACHER_BATCH,
      run: (b) => {
        const clip = CLIP.fromStateDict(tensors, config.clip);
        const R = clip.config.imageResolution;
        const weights = zeroShot ? empty([clip.config.embedDim, C]) : undefined;
        scope(() => {
          const f = clip.encodeImage(empty([b, 3, R, R]));
          if (weights) zeroShotLogits(f, weights);
        });
        weights?.dispose();
        clip.dispose();
      },
    },
  };
}

/** The selection phase of each strategy the run selects with (pool and centers at their largest). */
async function selectPhases(
  like: AdapterLike,
  limits: PlanLimits,
  config: RunConfig,
  C: number,
  sizes: { pool: number; labeled: number },
  resident?: Resident,
): Promise<PhasePlan[]> {
  let D = 0;
  await walk(like, () => {
    D = studentDim(config, C);
  });
  const N = sizes.pool;
  const M = Math.max(1, sizes.labeled - (config.budget ?? C));
  const budget = Math.min(config.budget ?? C, N);
  const out: PhasePlan[] = [];
  const names = [...new Set([...config.strategies, ...config.baselines])];
  for (const name of names) {
    const need = await walk(like, async () => {
      const held = resident?.();
      // Valid inputs (uniform probability rows), so the input checks pass as in a run.
      const probs = (rows: number) => new Float32Array(rows * C).fill(1 / C);
      const features = (rows: number) => new Float32Array(rows * D).fill(1);
      await strategySelector()(
        name,
        {
          classes: C,
          dim: D,
          probs: probs(N),
          features: features(N),
          labeledProbs: probs(M),
          labeledFeatures: features(M),
          labeledLabels: new Int32Array(M),
        },
        budget,
        Rng.fromSeed(0),
      );
      held?.dispose();
    });
    out.push({
      phase: "select",
      what: `${name}: ${strategyNamed(name).onGpu ? "farthest-first on the GPU" : "on the host"}` +
        ` and the coverage radius, ${N} pool rows, ${M} labeled, ${budget} picks`,
      ...need,
      exceeds: exceeded(need, limits),
    });
  }
  return out;
}

/** The student's feature width (call on a meta engine: the build allocates its parameters). */
function studentDim(config: RunConfig, C: number): number {
  const s = buildStudent(config.student, C, config.imageSize, undefined, config.studentWidth);
  const dim = s.backbone.featureDim;
  s.dispose();
  return dim;
}

export interface PlanOptions {
  /** Device memory budget in bytes. */
  memory?: number;
  /** Search the largest batch of each batched phase (the plan command; `run` only checks). */
  search?: boolean;
}

/** The plan of `config` over `data` on an adapter like `like`. */
export async function planRun(
  config: RunConfig,
  data: PlanData,
  like: AdapterLike,
  opts: PlanOptions = {},
): Promise<RunPlan> {
  const C = data.classes;
  const limits: PlanLimits = {
    maxBufferSize: like.limits.maxBufferSize ?? 268435456,
    maxStorageBufferBindingSize: like.limits.maxStorageBufferBindingSize ?? 134217728,
    memory: opts.memory,
  };
  const sizes = loopSizes(config, data);
  const batched: BatchedPhase[] = [];
  const augmented = resolveTeacherInput(config, like.adapter.isFallback) === "augmented";
  const teacher = await teacherPhase(config, C, augmented);
  if (teacher.phase) batched.push(teacher.phase);
  batched.push(...studentPhases(config, C, teacher.resident));
  const phases: PhasePlan[] = [];
  for (const p of batched) phases.push(await planBatched(like, limits, p, opts.search ?? false));
  phases.push(...await selectPhases(like, limits, config, C, sizes, teacher.resident));
  if (teacher.resident) {
    for (const p of phases) {
      if (p.phase === "teacher") continue;
      p.what += augmented
        ? `, beside the teacher's model${p.phase === "train" ? ", run on both batches" : ""}`
        : ", beside the CLIP model the teacher keeps";
    }
  }
  const a = like.adapter;
  return {
    backend: like.backend,
    adapter: [a.vendor, a.architecture, a.device, a.description].filter((s) => s).join(" "),
    limits,
    classes: C,
    pool: sizes.pool,
    labeled: sizes.labeled,
    phases,
  };
}

/** A phase in words for messages: its name, what it runs, and its batch. */
function phaseText(p: PhasePlan): string {
  return `the ${p.phase} phase (${p.what}${p.batch === undefined ? "" : `, batch ${p.batch}`})`;
}

/**
 * The one-line refusal for the first phase of `plan` that does not fit (naming it, the limit,
 * and the largest batch that fits when the plan searched it), or undefined when all fit.
 */
export function misfit(plan: RunPlan): string | undefined {
  const p = plan.phases.find((q) => q.exceeds !== undefined);
  if (!p) return undefined;
  const largest = p.maxBatch === undefined
    ? ""
    : p.maxBatch === null
    ? "; not even a batch of 1 fits"
    : `; the largest batch that fits is ${p.maxBatch}`;
  return `plan: ${phaseText(p)} does not fit this adapter: ${p.exceeds}${largest}`;
}

/**
 * `akd run`'s early check: the plan at the config's sizes, without the batch search; a phase
 * that does not fit is an InputError from `misfit` (with the largest batch, searched only then),
 * before the teacher or any round starts.
 */
export async function checkRunFits(config: RunConfig, data: PlanData, like: AdapterLike) {
  if (misfit(await planRun(config, data, like)) === undefined) return;
  const full = await planRun(config, data, like, { search: true });
  throw new InputError(`${misfit(full)} (akd plan --config C shows every phase)`);
}
