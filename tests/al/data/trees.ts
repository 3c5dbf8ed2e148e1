/** Small on-disk datasets for the tests, made of the PIL-encoded images in fixtures/decode.json. */
import { dirname, join } from "node:path";
import { gzipSync } from "node:zlib";
import { decodeBase64 } from "./base64.ts";

interface StoredFile {
  name: string;
  bytes: string;
  width: number;
  height: number;
  rgb: string;
}

export const decodeFixture: { files: StoredFile[] } = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/decode.json", import.meta.url)),
);

/** The bytes of a fixture image file (e.g. "baseline_444.jpg", "rgb.png"). */
export function fixtureBytes(name: string): Uint8Array {
  const f = decodeFixture.files.find((f) => f.name === name);
  if (!f) throw new Error(`no fixture file ${name}`);
  return decodeBase64(f.bytes);
}

export const JPEG = fixtureBytes("baseline_444.jpg");
export const PNG = fixtureBytes("rgb.png");
/** A JPEG cut in the middle of its entropy-coded data. */
export const TRUNCATED_JPEG = JPEG.subarray(0, Math.floor(JPEG.length * 0.6));

/** Writes `files` (relative path → bytes or text) below `root`. */
export async function writeTree(root: string, files: Record<string, Uint8Array | string>) {
  for (const [rel, content] of Object.entries(files)) {
    const path = join(root, rel);
    await Deno.mkdir(dirname(path), { recursive: true });
    if (typeof content === "string") await Deno.writeTextFile(path, content);
    else await Deno.writeFile(path, content);
  }
}

export { withTempDir } from "../../temp_dir.ts";

/** IDX bytes of unsigned bytes with the given dimensions; pixel k is (k * 7 + seed) & 255. */
export function idx(dims: number[], seed = 0, values?: number[]): Uint8Array {
  const size = dims.reduce((a, b) => a * b, 1);
  const out = new Uint8Array(4 + 4 * dims.length + size);
  out.set([0, 0, 0x08, dims.length]);
  const view = new DataView(out.buffer);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  for (let k = 0; k < size; k++) out[4 + 4 * dims.length + k] = values?.[k] ?? (k * 7 + seed) & 255;
  return out;
}

/** A tiny MNIST-like folder: 5 train images (labels 0 2 1 2 0) and 2 test, 3×2 pixels. */
export function mnistLike(gz: boolean) {
  const z = (b: Uint8Array) => (gz ? new Uint8Array(gzipSync(b)) : b);
  const sfx = gz ? ".gz" : "";
  return {
    [`train-images-idx3-ubyte${sfx}`]: z(idx([5, 3, 2], 1)),
    [`train-labels-idx1-ubyte${sfx}`]: z(idx([5], 0, [0, 2, 1, 2, 0])),
    [`t10k-images-idx3-ubyte${sfx}`]: z(idx([2, 3, 2], 9)),
    [`t10k-labels-idx1-ubyte${sfx}`]: z(idx([2], 0, [1, 0])),
  };
}
