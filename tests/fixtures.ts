/**
 * Where the PyTorch reference fixtures live: `$AKD_FIXTURES` if set, else `../shared/fixtures`
 * beside the repository root (as in CI). `undefined` when that folder is absent, so fixture tests
 * can be `ignore`d; a set `AKD_FIXTURES` that is not a folder is an error, not a silent skip.
 */
import { fileURLToPath } from "node:url";

export function fixturesDir(): string | undefined {
  const fromEnv = Deno.env.get("AKD_FIXTURES");
  if (fromEnv) {
    if (!isDirectory(fromEnv)) throw new Error(`AKD_FIXTURES=${fromEnv} is not a folder`);
    return fromEnv;
  }
  const beside = fileURLToPath(new URL("../../shared/fixtures", import.meta.url));
  return isDirectory(beside) ? beside : undefined;
}

function isDirectory(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}
