/**
 * The output folder's life cycle. The resolved config is written first (`config.json`); a folder
 * with a finished report is skipped unless `--force`; a folder with an unfinished run must be
 * `--resume`d (with the same config) or `--force`d. `--force` removes the old checkpoints and
 * report; only a file that is already gone is skipped, any other failure (permissions) is an
 * error naming the path.
 */
import { join } from "node:path";
import { InputError } from "../../engine/errors.ts";
import { resolveConfig, type RunConfig } from "../config.ts";
import { exists, removeIfPresent, writeFileAtomic } from "../../engine/files.ts";
import { REPORT_FILES } from "../report/report.ts";
import type { Report } from "../report/types.ts";
import { checkpointRoot, writeError, type WriteFile } from "./checkpoint.ts";

export const CONFIG_FILE = "config.json";

/** The config saved in `out`, or undefined. */
export async function savedConfig(out: string): Promise<Record<string, unknown> | undefined> {
  const file = join(out, CONFIG_FILE);
  if (!(await exists(file))) return undefined;
  try {
    return JSON.parse(await Deno.readTextFile(file));
  } catch (e) {
    throw new InputError(`${file}: unreadable (${(e as Error).message})`);
  }
}

/** The first key whose value differs, or undefined when both configs are the same. */
export function configDifference(
  a: Record<string, unknown>,
  b: Record<string, unknown>,
): string | undefined {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return keys.find((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
}

/** The report of a finished run in `out`. */
export async function readReport(out: string): Promise<Report> {
  const file = join(out, "report.json");
  try {
    return JSON.parse(await Deno.readTextFile(file));
  } catch (e) {
    throw new InputError(`${file}: unreadable (${(e as Error).message}): --force to redo the run`);
  }
}

export type OutState = "fresh" | "resume" | "done";

/**
 * Decides what to do with `config.out` and prepares it: "done" (a finished report exists and
 * neither flag is given: nothing to do), "resume" or "fresh" (config.json written).
 */
export async function prepareOut(
  config: RunConfig,
  { resume = false, force = false, writeFile = writeFileAtomic }: {
    resume?: boolean;
    force?: boolean;
    writeFile?: WriteFile;
  } = {},
): Promise<OutState> {
  if (resume && force) throw new InputError("--resume and --force exclude each other");
  const out = config.out;
  // Resolved like any config, so that a key added since the run started compares as its default.
  const raw = await savedConfig(out);
  const saved = raw &&
    (resolveConfig(raw, {}, join(out, CONFIG_FILE)) as unknown as Record<string, unknown>);
  const finished = await exists(join(out, "report.json"));
  const started = saved !== undefined || (await exists(checkpointRoot(out)));
  if (force) {
    // The report first: an interrupted --force never leaves a finished-looking folder.
    try {
      for (const f of [...REPORT_FILES, CONFIG_FILE]) await removeIfPresent(join(out, f));
      await removeIfPresent(checkpointRoot(out), true);
    } catch (e) {
      throw new Error(`--force: ${(e as Error).message}`, { cause: e });
    }
  } else if (resume) {
    if (!saved) throw new InputError(`--resume: ${out} holds no run (no ${CONFIG_FILE})`);
    const key = configDifference(saved, config as unknown as Record<string, unknown>);
    if (key !== undefined) {
      throw new InputError(
        `--resume: "${key}" is ${JSON.stringify(config[key as keyof RunConfig])} but the run ` +
          `in ${out} has ${JSON.stringify(saved[key])}`,
      );
    }
    return finished ? "done" : "resume";
  } else if (finished) {
    const key = saved && configDifference(saved, config as unknown as Record<string, unknown>);
    if (key !== undefined) {
      throw new InputError(
        `${out} holds a finished run with another "${key}": --force to replace it, or another --out`,
      );
    }
    return "done";
  } else if (started) {
    throw new InputError(
      `${out} holds an unfinished run: --resume to continue it, --force to start over`,
    );
  }
  const file = join(out, CONFIG_FILE);
  try {
    await Deno.mkdir(out, { recursive: true });
    await writeFile(file, JSON.stringify(config, null, 2) + "\n");
  } catch (e) {
    throw writeError(file, e);
  }
  return "fresh";
}
