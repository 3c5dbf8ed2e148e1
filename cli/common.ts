/** Shared CLI plumbing: common options, engine lifetime, output on stdout vs stderr. */
import { Option } from "@commander-js/extra-typings";
import { closeEngine, currentEngine, type Engine, initEngine } from "../engine/context.ts";
import { InputError } from "../engine/errors.ts";
import { AUTO_RULE, type BackendChoice } from "../engine/device.ts";

export const backendOption = () =>
  new Option("--backend <name>", `WebGPU backend: dawn, native (built-in) or auto (${AUTO_RULE})`)
    .choices(["dawn", "native", "auto"] as const)
    .default("auto" as const);

export const jsonOption = () =>
  new Option("--json", "machine-readable result on stdout (human text goes to stderr)");

export const quietOption = () => new Option("--quiet", "no progress output");

/**
 * The one integer-flag parser: a decimal integer >= `min` (a safe integer), else an InputError
 * naming the flag (exit 2).
 */
export function intArg(flag: string, min = 0) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(n) || n < min) {
      throw new InputError(`${flag} must be an integer >= ${min}, got "${value}"`);
    }
    return n;
  };
}

/**
 * Runs `fn` with an engine on the chosen backend: the current one when it is open on that
 * backend (`auto` takes any; tests open one per backend), else one opened for `fn` and released
 * after it (Dawn keeps the process alive otherwise).
 */
export async function withEngine<T>(
  backend: BackendChoice,
  fn: (e: Engine) => Promise<T>,
): Promise<T> {
  const open = currentEngine();
  if (open && (backend === "auto" || open.gpu.backend === backend)) return await fn(open);
  const e = await initEngine({ backend });
  try {
    return await fn(e);
  } finally {
    closeEngine();
  }
}

/** Prints a result: JSON on stdout with --json, else the human text. */
export function emit(json: boolean | undefined, value: unknown, human: () => string): void {
  if (json) console.log(JSON.stringify(value, null, 2));
  else console.log(human());
}
