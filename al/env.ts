/**
 * Every environment variable the tool reads (docs/cli.md), each validated here: a bad value is an
 * InputError naming the variable (exit 2). Read on use, so tests can set them.
 *
 * Outside this module: AKD_GEMM_TILES (engine/kernel_choices.ts), and the tests' own
 * AKD_TEST_BACKENDS, AKD_REQUIRE_BACKENDS, CI (read in tests/gpu.ts, checked in tests/backends.ts)
 * and AKD_FIXTURES (tests/fixtures.ts).
 */
import { join } from "node:path";
import { InputError } from "../engine/errors.ts";

/** A path-valued variable: undefined when unset; set, it must not be empty. */
function pathVar(name: string): string | undefined {
  const value = Deno.env.get(name);
  if (value === undefined) return undefined;
  if (value.trim() === "") {
    throw new InputError(`${name} is set but empty: unset it, or give a path`);
  }
  return value;
}

/** Whether `path` is a folder; `undefined` when nothing is there. */
function isFolder(name: string, path: string): boolean | undefined {
  try {
    return Deno.statSync(path).isDirectory;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw new InputError(`${name}=${path}: cannot read (${(e as Error).message})`);
  }
}

/**
 * The cache folder of decoded images and teacher logits: `$AKD_CACHE`, else `.cache/activekd`.
 * It is created on first use, so it may be absent; if something is there it must be a folder.
 */
export function cacheDir(): string {
  const dir = pathVar("AKD_CACHE");
  if (dir === undefined) return join(".cache", "activekd");
  if (isFolder("AKD_CACHE", dir) === false) throw new InputError(`AKD_CACHE=${dir}: not a folder`);
  return dir;
}

/** `$AKD_DATA` (a folder holding datasets such as `fashion-mnist/`), or undefined when unset. */
export function dataDir(): string | undefined {
  const dir = pathVar("AKD_DATA");
  if (dir === undefined) return undefined;
  const folder = isFolder("AKD_DATA", dir);
  if (folder === undefined) throw new InputError(`AKD_DATA=${dir}: no such folder`);
  if (!folder) throw new InputError(`AKD_DATA=${dir}: not a folder`);
  return dir;
}

/** `AKD_DEBUG=1` prints the stack of an unexpected error; unset, empty or 0: off. */
export function debugEnabled(): boolean {
  const value = Deno.env.get("AKD_DEBUG");
  if (value === undefined || value === "" || value === "0") return false;
  if (value === "1") return true;
  throw new InputError(`AKD_DEBUG must be 0 or 1, got "${value}"`);
}

/**
 * The Python of the bench's PyTorch references: `$AKD_PYTHON` (then it must run and import
 * torch), else /usr/bin/python3 (when that lacks torch, the bench compares against our own
 * reference instead).
 */
export function pythonPath(): { path: string; explicit: boolean } {
  const path = pathVar("AKD_PYTHON");
  return path === undefined
    ? { path: "/usr/bin/python3", explicit: false }
    : { path, explicit: true };
}
