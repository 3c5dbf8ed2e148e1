/**
 * The roofline as stored data, and the `ceiling` note every kernel benchmark record gets from it
 * (docs/cli.md, "Ceilings"). A roofline belongs to one backend, adapter and Mesa version; it is
 * kept in memory for the rest of the process and in `<cache>/roofline.json` (`$AKD_CACHE`, else
 * `.cache/activekd`), one entry per such key, so a later `bench gemm` uses the last measured one.
 */
import { join } from "node:path";
import { cacheDir } from "../al/env.ts";
import { writeFileAtomic } from "../engine/files.ts";

export interface Roofline {
  backend: string;
  adapter: string;
  mesa: string | null;
  /** ISO time of the measurement. */
  measuredAt: string;
  quick: boolean;
  /** The pure-FMA kernel's GFLOP/s. */
  alu: number;
  /** The fastest streaming load shape (each byte read once): its name and GB/s. */
  memory: { shape: string; gbps: number };
  /** GB/s (lane-bytes) of every load shape measured. */
  shapes: Record<string, number>;
}

/** The least work one timed run of a benchmark does: its FLOPs and the bytes it must move. */
export interface Work {
  flops?: number;
  bytes?: number;
}

export interface Ceiling {
  /** Roofline time bound / measured time: 1 is the adapter's measured roof. */
  fraction: number;
  /** Which roof bounds this work: the ALU's or memory's (the larger time). */
  bound: "alu" | "memory";
  roof: string;
  roofline: string;
}

export function rooflineKey(backend: string, adapter: string, mesa: string | null): string {
  return `${backend} | ${adapter} | mesa ${mesa ?? "none"}`;
}

/**
 * The ceiling of work done in `seconds`: the classic roofline bound (the larger of FLOPs / ALU
 * roof and bytes / memory roof) over the measured time. `source` says where the roofline came from.
 */
export function ceilingOf(work: Work, seconds: number, r: Roofline, source: string): Ceiling {
  const alu = (work.flops ?? 0) / (r.alu * 1e9);
  const memory = (work.bytes ?? 0) / (r.memory.gbps * 1e9);
  const bound = alu >= memory ? "alu" : "memory";
  return {
    fraction: +(Math.max(alu, memory) / seconds).toFixed(4),
    bound,
    roof: bound === "alu"
      ? `${r.alu.toFixed(2)} GFLOP/s (pure FMA)`
      : `${r.memory.gbps.toFixed(2)} GB/s (${r.memory.shape})`,
    roofline: source,
  };
}

const cacheFile = () => join(cacheDir(), "roofline.json");

async function readCache(path: string): Promise<Record<string, Roofline>> {
  try {
    return JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return {};
    throw new Error(`${path}: unreadable roofline cache (${(e as Error).message}); delete it`);
  }
}

interface Stored {
  roofline: Roofline;
  source: string;
}

const memo = new Map<string, Stored>();

/** Keeps a roofline measured in this process, for the process and in the cache file. */
export async function storeRoofline(r: Roofline): Promise<void> {
  const key = rooflineKey(r.backend, r.adapter, r.mesa);
  memo.set(key, { roofline: r, source: `measured in this run (${r.measuredAt})` });
  const path = cacheFile();
  await Deno.mkdir(cacheDir(), { recursive: true });
  const all = await readCache(path);
  all[key] = r;
  await writeFileAtomic(path, JSON.stringify(all, null, 2) + "\n");
}

/** The roofline for this key: this process's measurement, else the cache file's; and its source. */
export async function storedRoofline(key: string): Promise<Stored | undefined> {
  const known = memo.get(key);
  if (known) return known;
  const path = cacheFile();
  const cached = (await readCache(path))[key];
  if (!cached) return undefined;
  const stored = { roofline: cached, source: `cached in ${path} (measured ${cached.measuredAt})` };
  memo.set(key, stored);
  return stored;
}
