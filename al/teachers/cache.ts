/**
 * Teacher logits cached on disk by content key: a SHA-256 of everything that determines them
 * (the teacher's weights hash, dataset, split, the image indices, transform, precision). A hit
 * skips the teacher's forward passes entirely; a changed input changes the key.
 * Files: `<cache>/teachers/<key>.safetensors` holding `logits` [n, C]. An entry computed in
 * shards (`akd teacher --shard K/N`, al/shards.ts) is merged from `<cache>/shards/` on first use.
 */
import { dirname, join } from "node:path";
import { InputError } from "../../engine/errors.ts";
import { cacheDir } from "../env.ts";
import type { Progress } from "../progress.ts";
import { type ImagePass, mergeShards, removeShards } from "../shards.ts";
import { type HostTensor, loadSafetensors, saveSafetensors } from "../../engine/safetensors.ts";

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v && typeof v === "object") {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`).join(",")}}`;
  }
  return JSON.stringify(v);
}

export async function sha256(data: string | Uint8Array): Promise<string> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The content key of a JSON-able description (key order does not matter). */
export function contentKey(parts: Record<string, unknown>): Promise<string> {
  return sha256(canonical(parts));
}

/** SHA-256 of a file's bytes (teacher weights). */
export async function fileHash(path: string): Promise<string> {
  return sha256(await Deno.readFile(path));
}

/** The one matrix of a cached pass. */
export const LOGITS = "logits";

export class LogitsCache {
  /** Shard files of passes computed in parts, beside the cache folder. */
  readonly shards: string;

  constructor(readonly dir = join(cacheDir(), "teachers")) {
    this.shards = join(dirname(dir), "shards");
  }

  file(key: string): string {
    return join(this.dir, `${key}.safetensors`);
  }

  /**
   * The cached logits [n, C], or undefined: a missing or malformed entry is a miss (recomputed
   * and overwritten); a permission or I/O error is thrown.
   */
  async get(key: string, rows: number, classes: number): Promise<Float32Array | undefined> {
    let file;
    try {
      file = await loadSafetensors(this.file(key));
    } catch (e) {
      if (e instanceof InputError) return undefined; // missing or malformed (names the file)
      throw e;
    }
    const t = file.tensors.get("logits");
    if (t?.dtype === "f32" && t.shape[0] === rows && t.shape[1] === classes) {
      return t.data as Float32Array;
    }
    return undefined;
  }

  async put(
    key: string,
    logits: Float32Array,
    classes: number,
    meta: Record<string, string>,
  ): Promise<void> {
    await Deno.mkdir(this.dir, { recursive: true });
    const t: HostTensor = { dtype: "f32", shape: [logits.length / classes, classes], data: logits };
    await saveSafetensors(this.file(key), { logits: t }, meta);
  }

  /**
   * The result of `pass` (one matrix, `logits`): from the cache; else merged from its shards
   * (checked; the shards go once the merge is stored); else computed, unless `mergeOnly`, where
   * no shards is an InputError. Stored in the cache either way.
   */
  async pass(p: ImagePass, progress: Progress, mergeOnly = false): Promise<Float32Array> {
    const cols = p.cols[LOGITS];
    const hit = await this.get(p.key, p.rows, cols);
    if (hit) {
      progress.log(`${p.name}: from the cache (${p.key})`);
      return hit;
    }
    const merged = await mergeShards(p, this.shards);
    if (!merged && mergeOnly) {
      throw new InputError(`${this.shards}: no shards of ${p.name} (key ${p.key})`);
    }
    if (merged) progress.log(`${p.name}: merged from its shards (${p.key})`);
    const m = merged ?? await p.compute(0, p.rows, progress);
    await this.put(p.key, m[LOGITS], cols, { pass: p.name });
    if (merged) await removeShards(p.key, this.shards);
    return m[LOGITS];
  }
}
