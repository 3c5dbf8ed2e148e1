/**
 * A split backed by image files on disk: listing is eager (paths and labels), decoding lazy
 * (one file per `get`), so a folder of a million images opens in the time it takes to list it.
 */
import { InputError } from "../../engine/errors.ts";
import { decodeImage } from "./decode.ts";
import type { Image, ImageSet } from "./image.ts";

export class FileImageSet implements ImageSet {
  constructor(readonly paths: readonly string[], readonly labels: Int32Array) {
    if (paths.length !== labels.length) {
      throw new RangeError(`${paths.length} paths for ${labels.length} labels`);
    }
  }

  get length(): number {
    return this.paths.length;
  }

  async get(i: number): Promise<Image> {
    const file = this.source(i);
    return decodeImage(await readImageFile(file), file);
  }

  source(i: number): string {
    if (!(i >= 0 && i < this.paths.length)) {
      throw new RangeError(`index ${i} outside 0..${this.paths.length - 1}`);
    }
    return this.paths[i];
  }
}

/** The file's bytes; a missing or unreadable file is an InputError naming it. */
export async function readImageFile(file: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(file);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new InputError(`${file}: file not found`);
    throw new InputError(`${file}: cannot read (${(e as Error).message})`);
  }
}
