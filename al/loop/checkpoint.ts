/**
 * Per-round checkpoints of a run, under `<out>/checkpoints/`:
 *
 *   seed-<s>/round-0/              the round-0 student shared by the distilled arms of seed s
 *   seed-<s>/round-0-no-teacher/   the round-0 student shared by its plain (no-teacher) arms
 *   seed-<s>/<arm>/round-<r>/      round r of one arm (round 0: its selection only)
 *
 * Each holds `state.json` (labeled indices, metrics, selection RNG state before and after the
 * picks, teacher key) and, where a student was trained, `student.safetensors`; an arm's rounds
 * also hold their selection inputs (selection.ts). The weights are
 * written first and `state.json` last, both atomically, so a folder with a readable state is a
 * complete round; anything else is redone on `--resume`. A state that does not parse is an
 * InputError naming the file; a write that fails (a full disk) is an Error naming the file, and
 * leaves the previous rounds' checkpoints as they were.
 */
import { join } from "node:path";
import { z } from "zod";
import { InputError } from "../../engine/errors.ts";
import type { RngState } from "../../engine/rng.ts";
import { writeFileAtomic } from "../../engine/files.ts";
import type { RoundResult } from "../report/types.ts";
import type { Student } from "../ports.ts";

export const CHECKPOINT_VERSION = 1;

const u32 = z.int().min(0).max(0xffffffff);
const rngState = z.object({
  key: z.tuple([u32, u32]),
  counter: z.tuple([u32, u32, u32, u32]),
  lane: z.int().min(0).max(3),
}).strict();
const finite = z.number();
const roundResult = z.object({
  strategy: z.string(),
  seed: z.int(),
  round: z.int().min(0),
  labeled: z.int().min(0),
  pool: z.int().min(0),
  accuracy: finite,
  accuracy_ce: finite,
  accuracy_kd: finite.nullable(),
  teacher_accuracy: finite.nullable(),
  selected: z.array(z.int().min(0)),
  class_counts: z.array(z.int().min(0)),
  coverage_radius: finite.nullable(),
  coverage_radius_after: finite.nullable(),
  feature_coverage_radius: finite.optional(),
  feature_coverage_radius_after: finite.optional(),
  seconds: z.record(z.string(), finite),
}).strict();

const stateSchema = z.object({
  version: z.literal(CHECKPOINT_VERSION),
  seed: z.int().min(0),
  /** Absent in the shared round-0 state. */
  strategy: z.string().optional(),
  round: z.int().min(0),
  teacher_key: z.string(),
  labeled: z.array(z.int().min(0)),
  result: roundResult,
  rng_before: rngState.optional(),
  rng_after: rngState.optional(),
  /** Path of the student's weights, relative to this state's folder. */
  student: z.string(),
}).strict();

export interface RoundState {
  version: typeof CHECKPOINT_VERSION;
  seed: number;
  strategy?: string;
  round: number;
  teacher_key: string;
  labeled: number[];
  result: RoundResult;
  rng_before?: RngState;
  rng_after?: RngState;
  student: string;
}

export const STATE_FILE = "state.json";
export const STUDENT_FILE = "student.safetensors";

export function checkpointRoot(out: string): string {
  return join(out, "checkpoints");
}

/** The folder of a round: the shared round 0 when `strategy` is undefined. */
export function roundDir(out: string, seed: number, strategy: string | undefined, round: number) {
  const seedDir = join(checkpointRoot(out), `seed-${seed}`);
  return strategy === undefined
    ? join(seedDir, `round-${round}`)
    : join(seedDir, strategy, `round-${round}`);
}

/** How output files are written: `writeFileAtomic`, or a test's stand-in (a full disk). */
export type WriteFile = typeof writeFileAtomic;

/** A failed write of `file` as a runtime error (exit 1) that names it. */
export function writeError(file: string, e: unknown): Error {
  return new Error(`${file}: cannot write (${(e as Error).message})`, { cause: e });
}

export async function writeState(
  dir: string,
  state: RoundState,
  write: WriteFile = writeFileAtomic,
): Promise<void> {
  const file = join(dir, STATE_FILE);
  try {
    await Deno.mkdir(dir, { recursive: true });
    await write(file, JSON.stringify(state, null, 1) + "\n");
  } catch (e) {
    throw writeError(file, e);
  }
}

/** Saves a round's student as `dir/student.safetensors`; a failure names the file. */
export async function saveStudent(dir: string, student: Student): Promise<void> {
  const file = join(dir, STUDENT_FILE);
  try {
    await Deno.mkdir(dir, { recursive: true });
    await student.save(file);
  } catch (e) {
    throw writeError(file, e);
  }
}

/** The state in `dir`, or undefined when the round never completed. */
export async function readState(dir: string): Promise<RoundState | undefined> {
  const file = join(dir, STATE_FILE);
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw new InputError(`${file}: cannot read the checkpoint (${(e as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new InputError(`${file}: corrupt checkpoint (${(e as Error).message})`);
  }
  const parsed = stateSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InputError(
      `${file}: corrupt checkpoint ("${issue.path.join(".")}": ${issue.message})`,
    );
  }
  return parsed.data as RoundState;
}

/**
 * The completed rounds 0..k of one strategy (or the shared round 0), in order. A gap (round k
 * present without round k−1) means the folder was tampered with: an InputError.
 */
export async function completedRounds(
  out: string,
  seed: number,
  strategy: string,
  rounds: number,
): Promise<RoundState[]> {
  const states: RoundState[] = [];
  for (let r = 0; r <= rounds; r++) {
    const dir = roundDir(out, seed, strategy, r);
    const state = await readState(dir);
    if (!state) {
      // A corrupt later state is an error too, never read as absent.
      const later = await readState(roundDir(out, seed, strategy, r + 1));
      if (later) throw new InputError(`${dir}: missing while round ${r + 1} exists`);
      break;
    }
    if (state.seed !== seed || state.strategy !== strategy || state.round !== r) {
      throw new InputError(
        `${join(dir, STATE_FILE)}: holds seed ${state.seed} ${state.strategy} round ` +
          `${state.round}, expected seed ${seed} ${strategy} round ${r}`,
      );
    }
    states.push(state);
  }
  return states;
}
