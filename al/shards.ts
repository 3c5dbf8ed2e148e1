/**
 * Sharded per-image passes (docs/architecture.md, "Sharded work"): a pass computes named f32
 * matrices whose rows follow a list of images (teacher logits, CLIP features, a student's
 * scores of the pool), identified by a content key. `--shard K/N` jobs each compute one slice
 * of the rows and write it to `<cache>/shards/<key>.<K>-of-<N>.safetensors`; the merge reads
 * every file named for the key and checks that the shards are of that key, of one count N, each
 * present once, and together cover the rows with the right shapes, before anything consumes
 * them. A failed check is an InputError (exit 2) naming the file.
 *
 * Shard boundaries fall on multiples of the pass's batch size, so a sharded pass runs exactly
 * the batches an unsharded one runs: the merged result is bitwise the unsharded one.
 */
import { join } from "node:path";
import { InputError } from "../engine/errors.ts";
import { exists, removeIfPresent } from "../engine/files.ts";
import {
  type HostTensor,
  loadSafetensors,
  type SafetensorsFile,
  saveSafetensors,
} from "../engine/safetensors.ts";
import { cacheDir } from "./env.ts";
import type { Progress } from "./progress.ts";

/** One job's part: shard `index` (1-based) of `count`. */
export interface Shard {
  index: number;
  count: number;
}

/** A pass's matrices: name → [rows, cols] rows, row-major. */
export type Matrices = Record<string, Float32Array>;

/** A per-image pass that can run whole or in shards. */
export interface ImagePass {
  /** Content key of the whole result. */
  key: string;
  /** For messages ("teacher clip-zeroshot train logits"). */
  name: string;
  rows: number;
  /** The matrices' names and column counts. */
  cols: Record<string, number>;
  /** Shard boundaries fall on multiples of this (the pass's batch size). */
  batch: number;
  /** The rows [start, end) of every matrix. */
  compute(start: number, end: number, progress: Progress): Promise<Matrices>;
}

/** `K/N` (1 ≤ K ≤ N) → a Shard; anything else names `flag`. */
export function parseShard(flag: string, value: string): Shard {
  const m = /^([0-9]+)\/([0-9]+)$/.exec(value);
  const index = m ? Number(m[1]) : NaN, count = m ? Number(m[2]) : NaN;
  if (!m || !Number.isSafeInteger(count) || index < 1 || index > count) {
    throw new InputError(`${flag}: expected K/N with 1 <= K <= N, got "${value}"`);
  }
  return { index, count };
}

/** Rows [start, end) of shard `s` of `rows` rows cut on multiples of `batch` (may be empty). */
export function shardRows(rows: number, batch: number, s: Shard): [number, number] {
  const blocks = Math.ceil(rows / batch);
  const at = (k: number) => Math.min(rows, Math.floor((k * blocks) / s.count) * batch);
  return [at(s.index - 1), at(s.index)];
}

export function shardsDir(): string {
  return join(cacheDir(), "shards");
}

export function shardFile(dir: string, key: string, s: Shard): string {
  return join(dir, `${key}.${s.index}-of-${s.count}.safetensors`);
}

/** Computes shard `s` of `pass` and writes it into `dir`; returns the file. */
export async function writeShard(
  pass: ImagePass,
  s: Shard,
  progress: Progress,
  dir = shardsDir(),
): Promise<string> {
  const [start, end] = shardRows(pass.rows, pass.batch, s);
  const m = await pass.compute(start, end, progress);
  await Deno.mkdir(dir, { recursive: true });
  const file = shardFile(dir, pass.key, s);
  await saveRows(file, pass, s, start, end, m);
  return file;
}

async function saveRows(
  file: string,
  pass: ImagePass,
  s: Shard,
  start: number,
  end: number,
  m: Matrices,
): Promise<void> {
  const tensors: Record<string, HostTensor> = {};
  for (const [name, cols] of Object.entries(pass.cols)) {
    tensors[name] = { dtype: "f32", shape: [end - start, cols], data: m[name] };
  }
  await saveSafetensors(file, tensors, {
    key: pass.key,
    shard: `${s.index}/${s.count}`,
    rows: String(pass.rows),
    start: String(start),
    end: String(end),
  });
}

const WHOLE: Shard = { index: 1, count: 1 };

/** Saves a whole (merged) pass as `file`, in the shard format: `loadWhole` checks it back. */
export function saveWhole(file: string, pass: ImagePass, m: Matrices): Promise<void> {
  return saveRows(file, pass, WHOLE, 0, pass.rows, m);
}

/**
 * A whole pass saved by `saveWhole`, checked as its one shard; undefined when absent or of
 * another key (stale: the caller recomputes and overwrites it).
 */
export async function loadWhole(file: string, pass: ImagePass): Promise<Matrices | undefined> {
  if (!(await exists(file))) return undefined;
  const loaded = await loadSafetensors(file);
  if (loaded.metadata.key !== pass.key) return undefined;
  const f = await readShard(file, pass, loaded);
  if (f.shard.count !== 1) {
    throw new InputError(`${file}: shard ${f.shard.index}/${f.shard.count}, not a whole pass`);
  }
  return Object.fromEntries(
    Object.keys(pass.cols).map((n) => [n, f.tensors.get(n)!.data as Float32Array]),
  );
}

/** The shard files in `dir` named for `key` (none when `dir` does not exist). */
export async function shardFiles(key: string, dir = shardsDir()): Promise<string[]> {
  const found: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.isFile && e.name.startsWith(`${key}.`) && e.name.endsWith(".safetensors")) {
        found.push(join(dir, e.name));
      }
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  return found.sort();
}

interface Found {
  file: string;
  shard: Shard;
  start: number;
  end: number;
  tensors: Map<string, HostTensor>;
}

/** Reads one shard's metadata and checks it is of `pass` (key, rows, its own row range). */
async function readShard(
  file: string,
  pass: ImagePass,
  loaded?: SafetensorsFile,
): Promise<Found> {
  const { tensors, metadata } = loaded ?? await loadSafetensors(file);
  const bad = (why: string) => new InputError(`${file}: ${why}`);
  if (metadata.key !== pass.key) {
    throw bad(`a shard of key ${metadata.key ?? "(none)"}, not of ${pass.name} (${pass.key})`);
  }
  const shard = parseShard(`${file}: shard`, metadata.shard ?? "");
  const start = Number(metadata.start), end = Number(metadata.end);
  const [from, to] = shardRows(pass.rows, pass.batch, shard);
  if (Number(metadata.rows) !== pass.rows || start !== from || end !== to) {
    throw bad(
      `shard ${metadata.shard} holds rows ${metadata.start}-${metadata.end} of ` +
        `${metadata.rows}; ${pass.name} needs rows ${from}-${to} of ${pass.rows}`,
    );
  }
  for (const [name, cols] of Object.entries(pass.cols)) {
    const t = tensors.get(name);
    if (t?.dtype !== "f32" || t.shape.join() !== `${end - start},${cols}`) {
      throw bad(
        `tensor "${name}" is ${t ? `${t.dtype} [${t.shape}]` : "missing"}, expected f32 ` +
          `[${end - start}, ${cols}]`,
      );
    }
  }
  return { file, shard, start, end, tensors };
}

/**
 * Checks the shards of `pass` in `dir` and concatenates them: every file named for the key must
 * hold a shard of that key, all of one count N, each of 1..N exactly once. Undefined when there
 * are none.
 */
export async function mergeShards(
  pass: ImagePass,
  dir = shardsDir(),
): Promise<Matrices | undefined> {
  const files = await shardFiles(pass.key, dir);
  if (files.length === 0) return undefined;
  const found: Found[] = [];
  for (const file of files) found.push(await readShard(file, pass));
  const count = found[0].shard.count;
  const byIndex = new Map<number, Found>();
  for (const f of found) {
    if (f.shard.count !== count) {
      throw new InputError(
        `${f.file}: shard ${f.shard.index} of ${f.shard.count}, but ${found[0].file} is of ` +
          `${count}: shards of two splits of ${pass.name}`,
      );
    }
    const other = byIndex.get(f.shard.index);
    if (other) {
      throw new InputError(
        `${f.file}: duplicates shard ${f.shard.index}/${count} of ${other.file}`,
      );
    }
    byIndex.set(f.shard.index, f);
  }
  for (let k = 1; k <= count; k++) {
    if (!byIndex.has(k)) {
      const file = shardFile(dir, pass.key, { index: k, count });
      throw new InputError(`${file}: missing: shard ${k}/${count} of ${pass.name}`);
    }
  }
  const out: Matrices = {};
  for (const [name, cols] of Object.entries(pass.cols)) {
    const m = new Float32Array(pass.rows * cols);
    for (const f of byIndex.values()) {
      m.set(f.tensors.get(name)!.data as Float32Array, f.start * cols);
    }
    out[name] = m;
  }
  return out;
}

/** Removes the shard files of `key` in `dir` (after their merge was stored or consumed). */
export async function removeShards(key: string, dir = shardsDir()): Promise<void> {
  for (const f of await shardFiles(key, dir)) await removeIfPresent(f);
}
