/**
 * Where the PyTorch reference fixtures live: `tests/fixtures/reference/` in this repository
 * (README there), or `$AKD_FIXTURES` to try another copy. A fixture test never skips: a missing
 * file fails it, naming the file.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const IN_REPO = fileURLToPath(new URL("./fixtures/reference", import.meta.url));

/** The fixture folder for a value of `AKD_FIXTURES` (unset: the in-repo copy). */
export function fixturesDirFor(fromEnv: string | undefined): string {
  if (fromEnv === undefined) return IN_REPO;
  if (!isDirectory(fromEnv)) {
    throw new Error(`AKD_FIXTURES=${JSON.stringify(fromEnv)} is not a folder`);
  }
  return fromEnv;
}

/** The fixture folder of this run. */
export function fixturesDir(): string {
  return fixturesDirFor(Deno.env.get("AKD_FIXTURES"));
}

/** The path of one fixture file (`fixture("resnet18", "io.safetensors")`); missing: an error. */
export function fixture(...parts: string[]): string {
  const path = join(fixturesDir(), ...parts);
  if (!stat(path)) throw new Error(`fixture ${path} is missing`);
  return path;
}

function isDirectory(path: string): boolean {
  return stat(path)?.isDirectory ?? false;
}

/** `undefined` when nothing is there; other failures (permissions) are raised. */
function stat(path: string): Deno.FileInfo | undefined {
  try {
    return Deno.statSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}
