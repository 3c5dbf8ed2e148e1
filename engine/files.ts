/**
 * File helpers shared by every layer (engine level, so engine/safetensors.ts may use them too):
 * atomic writes, and existence checks where only "not found" means missing (a permission or I/O
 * error is thrown, never read as absence).
 */
import { basename, dirname, join } from "node:path";

/**
 * Writes `data` so that `path` is never half-written: a temporary file in the same folder, then
 * a rename. On failure the temporary file is removed and the write's error is thrown.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const suffix = crypto.getRandomValues(new Uint32Array(1))[0].toString(16);
  const temp = join(dirname(path), `.${basename(path)}.${Deno.pid}.${suffix}.tmp`);
  try {
    if (typeof data === "string") await Deno.writeTextFile(temp, data);
    else await Deno.writeFile(temp, data);
    await Deno.rename(temp, path);
  } catch (e) {
    return await discardTemp(temp, path, e);
  }
}

/**
 * After a failed write of `path` through `temp`: removes `temp` (absent is fine: it was never
 * created, or already renamed) and throws `error`; a temp file that cannot be removed is named.
 */
export async function discardTemp(temp: string, path: string, error: unknown): Promise<never> {
  try {
    await Deno.remove(temp);
  } catch (removal) {
    if (!(removal instanceof Deno.errors.NotFound)) {
      throw new Error(
        `${path}: ${(error as Error).message}; the temporary file ${temp} could not be removed ` +
          `(${(removal as Error).message})`,
        { cause: error },
      );
    }
  }
  throw error;
}

/**
 * Removes `path` (a folder with `recursive`); nothing there is fine, any other error (such as
 * permissions) is thrown naming the path.
 */
export async function removeIfPresent(path: string, recursive = false): Promise<void> {
  try {
    await Deno.remove(path, { recursive });
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    throw new Error(`cannot remove ${path} (${(e as Error).message})`, { cause: e });
  }
}

/** `Deno.stat(path)`, or undefined when nothing is there (other errors are thrown). */
export async function statIfExists(path: string): Promise<Deno.FileInfo | undefined> {
  try {
    return await Deno.stat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

/** Whether something is at `path` (symlinks followed); a permission error is thrown. */
export async function exists(path: string): Promise<boolean> {
  return (await statIfExists(path)) !== undefined;
}
