/** Output files are never half-written: a temporary file in the same folder, then a rename. */
import { basename, dirname, join } from "node:path";

export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const suffix = crypto.getRandomValues(new Uint32Array(1))[0].toString(16);
  const temp = join(dirname(path), `.${basename(path)}.${Deno.pid}.${suffix}.tmp`);
  try {
    if (typeof data === "string") await Deno.writeTextFile(temp, data);
    else await Deno.writeFile(temp, data);
    await Deno.rename(temp, path);
  } catch (e) {
    await Deno.remove(temp).catch(() => {});
    throw e;
  }
}
