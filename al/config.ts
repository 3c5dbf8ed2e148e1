/**
 * The configuration of `akd run`: one zod schema, a JSON file, and flag overrides. Every key has
 * a flag of the same name in kebab case (`weightDecay` ↔ `--weight-decay`); flags win over the
 * file. Unknown keys and bad values are InputErrors that name the key (or the flag) and say what
 * is wrong. Defaults are docs/method.md's (the official code's).
 */
import { z } from "zod";
import { InputError } from "../engine/errors.ts";
import { STRATEGY_NAMES, type StrategyName } from "./strategies/types.ts";

export { STRATEGY_NAMES, type StrategyName };

export const STUDENTS = ["resnet18", "mobilenet_v2", "mlp"] as const;
/** Architectures a classifier teacher can have (torchvision checkpoints, or the small MLP). */
export const CLASSIFIERS = ["resnet18", "mobilenet_v2", "mlp"] as const;

/**
 * `clip-zeroshot`, `clap`, `tip-adapter-f[:FIT]`, `holdout-classifier`, `classifier:CKPT`,
 * `logits:FILE`, or `none` (plain active learning: CE on the labels only, the KD head unused).
 */
const TEACHER_SPEC =
  /^(none|clip-zeroshot|clap|tip-adapter-f|tip-adapter-f:.+|holdout-classifier|classifier:.+|logits:.+)$/;
export const TEACHER_HELP = "clip-zeroshot, clap, tip-adapter-f, tip-adapter-f:FIT, " +
  "holdout-classifier, classifier:CKPT, logits:FILE or none";

/** `teacherInput` choices (al/teachers/open.ts resolves `auto`). */
export const TEACHER_INPUTS = ["auto", "augmented", "cached"] as const;

const int = (min: number) => z.int().min(min);
const unique = <T>(xs: T[]) => new Set(xs).size === xs.length;

export const runConfigSchema = z.object({
  /** A dataset spec for `openDataset` (`fashion-mnist`, `idx:DIR`, `folder:DIR`, `coop:N:R`). */
  dataset: z.string().min(1).default("fashion-mnist"),
  /** The train split is this many images drawn once (seed-independent); all when absent. */
  trainSize: int(1).optional(),
  /** The test split is this many images drawn once; all when absent. */
  testSize: int(1).optional(),

  teacher: z.string().regex(TEACHER_SPEC, `expected ${TEACHER_HELP}`).default("clip-zeroshot"),
  /** CLIP weights (a .safetensors file, or a folder holding one and the BPE vocabulary). */
  clip: z.string().min(1).optional(),
  /** CLAP: distil round r from the probe fitted on round r−1's labels (the official lag). */
  clapLag: z.boolean().default(false),
  /** Tip-Adapter-F: distil round r from the cache fitted on round r−1's labels (the official lag). */
  tipLag: z.boolean().default(false),
  /**
   * What the student distils from (docs/method.md §1 "Teacher input"): `augmented`, the teacher's
   * forward on each step's crops and flips; `cached`, its logits of the un-augmented images,
   * computed once; `auto`, augmented on a hardware adapter and cached on a software one.
   */
  teacherInput: z.enum(TEACHER_INPUTS).default("auto"),
  /** holdout-classifier: labeled train images set aside (out of the pool) to train it. */
  teacherHoldout: int(1).default(2000),
  /** holdout-classifier: its training steps (batch `batchSize`). */
  teacherSteps: int(1).default(400),
  /** holdout-classifier: its architecture and base width (64 is torchvision's ResNet-18). */
  teacherArch: z.enum(CLASSIFIERS).default("resnet18"),
  teacherWidth: int(1).default(64),

  /** `mlp`: a two-layer perceptron on the pixels (quick runs and tests). */
  student: z.enum(STUDENTS).default("resnet18"),
  /**
   * Base width of the student: ResNet-18 `conv1` channels (64 is torchvision's), the MobileNetV2
   * width multiplier, or the MLP's hidden units; the architecture's default when absent.
   */
  studentWidth: z.number().positive().optional(),
  /** Student initialisation: a torchvision state dict (safetensors); from scratch when absent. */
  pretrained: z.string().min(1).optional(),
  /** Side of the square input both models see. */
  imageSize: int(8).default(224),

  strategies: z.array(z.enum(STRATEGY_NAMES)).min(1).refine(unique, "has duplicates")
    .default(["random", "pcoreset"]),
  /**
   * Strategies also run as plain active learning (no teacher: CE on the labels only) beside the
   * distilled arms, as `<strategy>-no-teacher`: the KD lift at equal label counts.
   */
  baselines: z.array(z.enum(STRATEGY_NAMES)).refine(unique, "has duplicates").default([]),
  rounds: int(0).default(15),
  /** Queries per round; the number of classes when absent. */
  budget: int(1).optional(),
  shots: int(1).default(1),
  seeds: z.array(int(0)).min(1).refine(unique, "has duplicates").default([1, 2, 3, 4, 5]),

  repeat: int(1).default(200),
  batchSize: int(1).default(64),
  lr: z.number().positive().default(1e-3),
  weightDecay: z.number().min(0).default(0.01),
  /** Fraction of the steps spent warming up. */
  warmup: z.number().min(0).max(1).default(0.1),
  temperature: z.number().positive().default(2),
  /** Evaluation: p = (1 − alpha)·softmax(z_ce) + alpha·softmax(z_kd / beta). */
  alpha: z.number().min(0).max(1).default(0.5),
  beta: z.number().positive().default(1),

  out: z.string().min(1).default("runs/akd"),
  /** Keep every round's student weights (by default only what `--resume` needs stays). */
  keepCheckpoints: z.boolean().default(false),
}).strict().refine((c) => c.teacher !== "none" || c.baselines.length === 0, {
  path: ["baselines"],
  message: "has no meaning with teacher none (every arm already runs without a teacher)",
}).refine((c) => c.teacher !== "none" || c.teacherInput === "auto", {
  path: ["teacherInput"],
  message: "has no meaning with teacher none",
});

export type RunConfig = z.output<typeof runConfigSchema>;
export type RunConfigInput = z.input<typeof runConfigSchema>;

type FlagKind = "int" | "number" | "string" | "bool" | "ints" | "strings";

/** How a flag's text becomes a config value (the schema then checks it). */
export const FLAG_KINDS: Record<keyof RunConfig, FlagKind> = {
  dataset: "string",
  trainSize: "int",
  testSize: "int",
  teacher: "string",
  clip: "string",
  clapLag: "bool",
  tipLag: "bool",
  teacherInput: "string",
  teacherHoldout: "int",
  teacherSteps: "int",
  teacherArch: "string",
  teacherWidth: "int",
  student: "string",
  studentWidth: "number",
  pretrained: "string",
  imageSize: "int",
  strategies: "strings",
  baselines: "strings",
  rounds: "int",
  budget: "int",
  shots: "int",
  seeds: "ints",
  repeat: "int",
  batchSize: "int",
  lr: "number",
  weightDecay: "number",
  warmup: "number",
  temperature: "number",
  alpha: "number",
  beta: "number",
  out: "string",
  keepCheckpoints: "bool",
};

export const CONFIG_KEYS = Object.keys(FLAG_KINDS) as (keyof RunConfig)[];

/** One line per key, for `--help`. */
export const CONFIG_HELP: Record<keyof RunConfig, string> = {
  dataset: "fashion-mnist, idx:DIR, folder:DIR or coop:NAME:ROOT",
  trainSize: "use this many train images (drawn once); all when absent",
  testSize: "use this many test images (drawn once); all when absent",
  teacher: TEACHER_HELP,
  clip: "CLIP weights: a folder with one .safetensors and the BPE vocabulary, or the file",
  clapLag: "CLAP: distil round r from the probe fitted on round r-1 (the official lag)",
  tipLag: "Tip-Adapter-F: distil round r from the cache fitted on round r-1 (the official lag)",
  teacherInput: "augmented (the teacher on each step's crops), cached (its logits of " +
    "un-augmented images) or auto (augmented on a hardware adapter, cached on a software one)",
  teacherHoldout: "holdout-classifier: train images held out of the pool to train it",
  teacherSteps: "holdout-classifier: its training steps",
  teacherArch: "holdout-classifier: resnet18, mobilenet_v2 or mlp",
  teacherWidth: "holdout-classifier: base width (64 = torchvision's ResNet-18)",
  student: "resnet18, mobilenet_v2 or mlp",
  studentWidth:
    "student base width: ResNet-18 conv1 channels (64), MobileNetV2 multiplier, MLP units",
  pretrained: "student backbone weights (torchvision state dict, safetensors)",
  imageSize: "side of the square student input",
  strategies: `comma-separated: ${STRATEGY_NAMES.join(", ")}`,
  baselines: "strategies also run without the teacher (plain AL), as <strategy>-no-teacher",
  rounds: "AL rounds after round 0",
  budget: "queries per round (default: the number of classes)",
  shots: "initial labeled images per class",
  seeds: "comma-separated seeds",
  repeat: "training steps per round = repeat · ⌈|L| / batch⌉",
  batchSize: "labeled and unlabeled batch size",
  lr: "AdamW learning rate",
  weightDecay: "AdamW weight decay",
  warmup: "warm-up fraction of the steps",
  temperature: "distillation temperature T",
  alpha: "evaluation: weight of the KD head",
  beta: "evaluation: temperature of the KD head",
  out: "output folder",
  keepCheckpoints: "keep every round's student weights (default: only what --resume needs)",
};

/** `weightDecay` → `--weight-decay`. */
export function flagName(key: string): string {
  return "--" + key.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase());
}

/** Converts a flag's text to the value its key takes (bad numbers become NaN: the schema says). */
export function parseFlagValue(key: keyof RunConfig, text: string | boolean): unknown {
  if (typeof text === "boolean") return text;
  const num = (s: string) => (/^\s*-?[0-9.eE+-]+\s*$/.test(s) ? Number(s) : NaN);
  switch (FLAG_KINDS[key]) {
    case "int":
    case "number":
      return num(text);
    case "bool":
      return text === "true" ? true : text === "false" ? false : text;
    case "ints":
      return text.split(",").map(num);
    case "strings":
      return text.split(",").map((s) => s.trim());
    default:
      return text;
  }
}

/**
 * Validates `file` (a parsed JSON value; `source` names it in messages) merged with `flags`
 * (already converted with `parseFlagValue`; they win). Returns the resolved config.
 */
export function resolveConfig(
  file: unknown,
  flags: Partial<Record<keyof RunConfig, unknown>> = {},
  source = "config",
): RunConfig {
  if (file !== undefined && (typeof file !== "object" || file === null || Array.isArray(file))) {
    throw new InputError(`${source}: expected a JSON object of settings`);
  }
  const merged: Record<string, unknown> = { ...(file as Record<string, unknown> | undefined) };
  for (const [k, v] of Object.entries(flags)) if (v !== undefined) merged[k] = v;
  const parsed = runConfigSchema.safeParse(merged);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  if (issue.code === "unrecognized_keys") {
    const key = issue.keys[0];
    const hint = closest(key, CONFIG_KEYS);
    throw new InputError(
      `${source}: unknown key "${key}"${hint ? ` (did you mean "${hint}"?)` : ""}`,
    );
  }
  const key = String(issue.path[0]);
  const where = key in flags && flags[key as keyof RunConfig] !== undefined
    ? flagName(key)
    : `${source}: "${issue.path.join(".")}"`;
  throw new InputError(`${where}: ${describe(issue)}, got ${show(valueAt(merged, issue.path))}`);
}

/** Reads and validates a JSON config file plus flag overrides. */
export async function loadConfig(
  path: string | undefined,
  flags: Partial<Record<keyof RunConfig, unknown>> = {},
): Promise<RunConfig> {
  if (path === undefined) return resolveConfig(undefined, flags, "flags");
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new InputError(`${path}: cannot read the config (${(e as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new InputError(`${path}: not valid JSON (${(e as Error).message})`);
  }
  return resolveConfig(json, flags, path);
}

function describe(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "invalid_type":
      return `expected ${issue.expected === "int" ? "an integer" : issue.expected}`;
    case "too_small":
      return issue.origin === "array"
        ? `expected at least ${issue.minimum} entries`
        : `expected a value ${issue.inclusive ? ">=" : ">"} ${issue.minimum}`;
    case "too_big":
      return `expected a value ${issue.inclusive ? "<=" : "<"} ${issue.maximum}`;
    case "invalid_value":
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    default:
      return issue.message;
  }
}

function valueAt(obj: unknown, path: readonly PropertyKey[]): unknown {
  let v = obj;
  for (const p of path) v = (v as Record<PropertyKey, unknown> | undefined)?.[p];
  return v;
}

function show(v: unknown): string {
  if (typeof v === "number" && Number.isNaN(v)) return "a non-number";
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? s.slice(0, 57) + "..." : s;
}

/** The known key nearest to `key` by edit distance, if it is a plausible typo. */
function closest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = editDistance(key.toLowerCase(), k.toLowerCase());
    if (d < bestD) [best, bestD] = [k, d];
  }
  return bestD <= Math.max(2, key.length / 3) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}
