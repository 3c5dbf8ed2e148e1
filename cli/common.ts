/** Shared CLI plumbing: common options, engine lifetime, output on stdout vs stderr. */
import { Command, InvalidArgumentError, Option } from "@commander-js/extra-typings";
import { closeEngine, type Engine, initEngine } from "../engine/context.ts";
import type { BackendChoice } from "../engine/device.ts";

export const backendOption = () =>
  new Option("--backend <name>", "WebGPU backend: dawn, native or auto (Dawn, then built-in)")
    .choices(["dawn", "native", "auto"] as const)
    .default("auto" as const);

export const jsonOption = () =>
  new Option("--json", "machine-readable result on stdout (human text goes to stderr)");

export const quietOption = () => new Option("--quiet", "no progress output");

/** Parses a non-negative integer flag value, or fails as a usage error naming the flag. */
export function intArg(flag: string, min = 0) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) {
      throw new InvalidArgumentError(`${flag} must be an integer >= ${min}, got '${v}'`);
    }
    return n;
  };
}

export const seedOption = () =>
  new Option("--seed <n>", "random seed (fixes the whole run)").argParser(intArg("--seed"));

/** Opens the engine on the chosen backend for the duration of `fn`, then releases the device. */
export async function withEngine<T>(
  backend: BackendChoice,
  fn: (e: Engine) => Promise<T>,
): Promise<T> {
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

export type AnyCommand = Command<unknown[], Record<string, unknown>, Record<string, unknown>>;
