/**
 * Benchmark plumbing: the interleaved best-of-N timing (`compare`), the PyTorch reference
 * (Debian's python3-torch, 2 threads, one child process per benchmark run: never a runtime
 * dependency; on CUDA where that Python has it, for the benchmarks that ask), the size profiles,
 * and the record shape of docs/cli.md.
 */
import { engine } from "../engine/context.ts";
import { InputError } from "../engine/errors.ts";
import { pythonPath } from "../al/env.ts";
import type { Work } from "./ceiling.ts";

/**
 * Case sizes: `cpu` fits a 2-core CPU adapter (llvmpipe) in minutes; `gpu` the hardware
 * targets (GEMM 4096³, PCoreSet N = 1,000,000 C = 1,000 K = 1,000), minutes on a data-centre GPU.
 */
export const BENCH_SIZES = ["cpu", "gpu"] as const;
export type BenchSizes = (typeof BENCH_SIZES)[number];

export interface BenchOptions {
  /** Fewer iterations and smaller cases (CI smoke runs); overrides `sizes`. */
  quick?: boolean;
  /** The size profile (default `cpu`). */
  sizes?: BenchSizes;
}

/** Which case table a benchmark uses. */
export function sizeProfile(opts: BenchOptions): "quick" | BenchSizes {
  return opts.quick ? "quick" : opts.sizes ?? "cpu";
}

export interface Measure {
  seconds: number;
  throughput: number;
  unit?: string;
}

export interface BenchRecord {
  name: string;
  case: string;
  backend: string;
  adapter: string;
  ours: Measure & { unit: string };
  reference: { name: string; seconds: number; throughput: number };
  ratio: number;
  /** Extra facts (e.g. tile sizes, picks checked equal, the `ceiling` note). */
  notes?: Record<string, unknown>;
  /** The least work of one timed run (`ours.seconds`), for the ceiling note (bench/ceiling.ts). */
  work?: Work;
}

/** Timed repetitions per contender (after warmup): the benchmark rule's "best of >= 5". */
export const BEST_OF = 5;

/** `BEST_OF`, or 2 under `--quick` (a smoke run whose figures count for nothing). */
export function repetitions(opts: BenchOptions): number {
  return opts.quick ? 2 : BEST_OF;
}

/**
 * One side of a comparison. `run` does the timed unit of work once, synced (GPU work finished,
 * or read back); it returns the seconds it measured itself (a PyTorch step timed inside
 * Python), or nothing: then its wall time is taken.
 */
export interface Contender {
  name: string;
  run(): Promise<number | void> | number | void;
}

export interface Timing {
  /** The least seconds of the timed repetitions: what a record reports. */
  best: number;
  median: number;
  /** Every timed repetition's seconds, in run order. */
  samples: number[];
}

/**
 * Times the contenders round robin (a, b, c, a, b, c, ...) so that load from elsewhere falls on
 * every side alike: `warmup` untimed rounds, then `iters` timed ones; per contender, the best
 * (least) and the median seconds.
 */
export async function compare(
  contenders: Contender[],
  { warmup, iters }: { warmup: number; iters: number },
): Promise<Map<string, Timing>> {
  if (!(iters >= 1 && warmup >= 0)) throw new Error(`compare: bad iters ${iters}/warmup ${warmup}`);
  const names = new Set(contenders.map((c) => c.name));
  if (names.size !== contenders.length) throw new Error("compare: contender names must differ");
  const samples = contenders.map((): number[] => []);
  for (let round = 0; round < warmup + iters; round++) {
    for (const [i, c] of contenders.entries()) {
      const t0 = performance.now();
      const own = await c.run();
      const seconds = typeof own === "number" ? own : (performance.now() - t0) / 1000;
      if (round >= warmup) samples[i].push(seconds);
    }
  }
  return new Map(contenders.map((c, i) => {
    const sorted = [...samples[i]].sort((a, b) => a - b);
    return [c.name, {
      best: sorted[0],
      median: sorted[Math.floor(sorted.length / 2)],
      samples: samples[i],
    }];
  }));
}

/** The notes a record gives of its timing: how measured, and the medians beside the bests. */
export function timingNotes(ours: Timing, reference: Timing, per = 1): Record<string, unknown> {
  return {
    timing: `best of ${ours.samples.length} each, ours and the case's references timed round robin`,
    medianSeconds: ours.median / per,
    referenceMedianSeconds: reference.median / per,
  };
}

interface Reply {
  ready?: boolean;
  why?: string;
  cuda?: boolean;
  torch?: string;
  error?: string;
  result?: unknown;
  seconds?: number;
  value?: unknown;
}

/**
 * A Python process with torch imported once for a whole benchmark (bench/torch_worker.py; 2
 * threads): `exec` defines the steps of the cases, `time` runs one on request, so that the
 * benchmark can interleave PyTorch's repetitions with ours.
 */
export class TorchWorker {
  #child: Deno.ChildProcess;
  #stdin: WritableStreamDefaultWriter<Uint8Array>;
  #lines: AsyncIterator<string>;
  #stderr: Promise<string>;
  readonly cuda: boolean;
  readonly version: string;

  private constructor(
    child: Deno.ChildProcess,
    lines: AsyncIterator<string>,
    stderr: Promise<string>,
    hello: Reply,
  ) {
    this.#child = child;
    this.#stdin = child.stdin.getWriter();
    this.#lines = lines;
    this.#stderr = stderr;
    this.cuda = hello.cuda === true;
    this.version = String(hello.torch);
  }

  /**
   * The worker, or undefined where the Python has no torch. `AKD_PYTHON` names one the user
   * wants: then a missing program or a missing torch is an error naming the variable.
   */
  static async start(): Promise<TorchWorker | undefined> {
    const { path, explicit } = pythonPath();
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(path, {
        args: [new URL("./torch_worker.py", import.meta.url).pathname],
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
        // OpenBLAS honours these; without them PyTorch may use 1 thread here.
        env: { OMP_NUM_THREADS: "2", OPENBLAS_NUM_THREADS: "2" },
      }).spawn();
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      if (explicit) throw new InputError(`AKD_PYTHON=${path}: no such program`);
      return undefined;
    }
    const stderr = new Response(child.stderr).text();
    const lines = readLines(child.stdout);
    const first = await lines.next();
    const hello: Reply = first.done ? { ready: false, why: "exited" } : JSON.parse(first.value);
    if (!hello.ready) {
      try {
        await child.stdin.close();
      } finally {
        await child.status;
      }
      const why = hello.why ?? "exited";
      if (explicit) throw new InputError(`AKD_PYTHON=${path}: ${why}`);
      if (first.done) throw new Error(`PyTorch worker failed: ${(await stderr).slice(-2000)}`);
      return undefined;
    }
    return new TorchWorker(child, lines, stderr, hello);
  }

  async #request(req: Record<string, unknown>): Promise<Reply> {
    await this.#stdin.write(new TextEncoder().encode(JSON.stringify(req) + "\n"));
    const line = await this.#lines.next();
    if (line.done) {
      throw new Error(`PyTorch worker exited: ${(await this.#stderr).slice(-2000)}`);
    }
    const reply: Reply = JSON.parse(line.value);
    if (reply.error !== undefined) throw new Error(`PyTorch reference failed: ${reply.error}`);
    return reply;
  }

  /**
   * Runs `code` with `torch`, `time`, `INPUT`, `DEVICE` (`input.device`, default cpu),
   * `sync()` and `STEPS` defined; it registers its timed callables in `STEPS` and may set a
   * JSON-serialisable `RESULT`, returned.
   */
  async exec<T = unknown>(code: string, input: unknown = {}): Promise<T> {
    return (await this.#request({ op: "exec", code, input })).result as T;
  }

  /** Seconds of `reps` calls of `STEPS[step]` and a sync, measured in Python; its last value. */
  async time(step: string, reps = 1): Promise<{ seconds: number; value: unknown }> {
    const r = await this.#request({ op: "time", step, reps });
    return { seconds: r.seconds!, value: r.value };
  }

  /** A contender timing `reps` calls of `STEPS[step]` per repetition. */
  contender(name: string, step: string, reps = 1): Contender {
    return { name, run: async () => (await this.time(step, reps)).seconds };
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.#stdin.close();
    const status = await this.#child.status;
    await this.#stderr;
    if (!status.success) throw new Error(`PyTorch worker exited with status ${status.code}`);
  }
}

/** The lines of a byte stream. */
async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buffered = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf("\n")) >= 0) {
      yield buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
    }
  }
  if (buffered) yield buffered;
}

/** Builds one record; ratio = ours / reference throughput (above 1: we are faster). */
export function record(
  name: string,
  caseName: string,
  ours: Measure & { unit: string },
  reference: { name: string; seconds: number; throughput: number },
  notes?: Record<string, unknown>,
  work?: Work,
): BenchRecord {
  const gpu = engine().gpu;
  return {
    name,
    case: caseName,
    backend: gpu.backend,
    adapter: gpu.adapter.description || gpu.adapter.device,
    ours,
    reference,
    ratio: ours.throughput / reference.throughput,
    ...(notes ? { notes } : {}),
    ...(work ? { work } : {}),
  };
}
