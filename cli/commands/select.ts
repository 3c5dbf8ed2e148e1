/**
 * `akd select --strategy S --pool P --budget K [--seed N] [--json]`: one active-learning
 * selection step on the matrices in a safetensors file. Prints the chosen pool rows;
 * `--json`: `{ "indices": [...], "seconds": s }`, seconds = the selection alone, after the pool
 * is on the device; a GPU strategy's pool is streamed from the file as it is packed (host memory:
 * a 1 MiB slice beside the packed copy), so there the seconds include reading it.
 */
import { Command } from "@commander-js/extra-typings";
import { engine } from "../../engine/context.ts";
import { InputError } from "../../engine/errors.ts";
import { Rng } from "../../engine/rng.ts";
import { type HostTensor, loadSafetensors, SafetensorsReader } from "../../engine/safetensors.ts";
import { scopeAsync, Tensor, tensor } from "../../engine/tensor.ts";
import {
  checkInputs,
  type Labeled,
  type Matrix,
  type Pool,
  type RowStream,
  select,
  strategy,
  STRATEGY_NAMES,
} from "../../al/strategies/mod.ts";
import { backendOption, intArg, withEngine } from "../common.ts";
import type { BackendChoice } from "../../engine/device.ts";
import { isRowStream } from "../../al/strategies/matrix.ts";

/** A pool file's tensors by name: whole, or as a row stream (the GPU strategies' pool matrices). */
interface PoolFile {
  get(key: string): Promise<HostTensor | RowStream | undefined>;
  close(): void;
}

/**
 * Opens the pool file. For GPU strategies its float32 pool matrices are streamed (read slice by
 * slice as they are packed on the device, never held whole in host memory); everything else is
 * read whole.
 */
async function openPool(file: string, stream: boolean): Promise<PoolFile> {
  if (!stream) {
    const { tensors } = await loadSafetensors(file);
    return { get: (key) => Promise.resolve(tensors.get(key)), close() {} };
  }
  const reader = await SafetensorsReader.open(file);
  return {
    get(key) {
      const e = reader.entries.get(key);
      if (e?.dtype === "F32" && e.shape.length === 2 && (key === "probs" || key === "features")) {
        return Promise.resolve({ shape: e.shape, rows: (r0, n) => reader.f32Rows(key, r0, n) });
      }
      return reader.tensor(key);
    },
    close: () => reader.close(),
  };
}

/** The tensors a strategy reads from the pool file (absent optional ones stay undefined). */
async function poolTensors(file: string, tensors: PoolFile, name: string) {
  const s = strategy(name);
  const matrix = async (key: string, required: boolean): Promise<Matrix | undefined> => {
    const t = await tensors.get(key);
    if (!t) {
      if (required) throw new InputError(`${file}: no tensor "${key}" (${name} needs it)`);
      return undefined;
    }
    if ("rows" in t) return t;
    if (t.dtype !== "f32") {
      throw new InputError(`${file}: "${key}" must be float32, not ${t.dtype}`);
    }
    return { data: t.data as Float32Array, shape: t.shape };
  };
  const pool: Pool = {
    probs: await matrix("probs", s.needs.probs),
    features: await matrix("features", s.needs.features),
  };
  if (!pool.probs && !pool.features) {
    throw new InputError(`${file}: no tensor "probs" or "features"`);
  }
  const labels = await tensors.get("labeled_labels");
  if (labels && ("rows" in labels || labels.dtype !== "i32" || labels.shape.length !== 1)) {
    throw new InputError(`${file}: "labeled_labels" must be int32 [M]`);
  }
  const labeled: Labeled = {
    probs: await matrix("labeled_probs", false),
    features: await matrix("labeled_features", false),
    labels: labels?.data as Int32Array | undefined,
  };
  return { pool, labeled };
}

/** A host matrix goes to the device; one on the device or streamed stays as it is. */
function upload(m: Matrix | undefined): Matrix | undefined {
  return m && !(m instanceof Tensor) && !isRowStream(m) ? tensor(m.data, m.shape) : m;
}

export function selectCommand() {
  return new Command("select")
    .description("one active-learning selection step: prints the chosen pool rows")
    .requiredOption(
      "--strategy <name>",
      `selection strategy: ${STRATEGY_NAMES.join(", ")}`,
      (v: string) => strategy(v).name,
    )
    .requiredOption(
      "--pool <file>",
      "safetensors: probs [N,C], labeled_probs [M,C], features [N,D], labeled_features [M,D] " +
        "(what the strategy reads; classbalanced also takes labeled_labels int32 [M])",
    )
    .requiredOption("--budget <k>", "rows to select", intArg("--budget"))
    .option(
      "--seed <n>",
      "seed (random, classbalanced, badge-kmeanspp)",
      intArg("--seed"),
      0,
    )
    .addOption(backendOption())
    .option("--json", "print { indices, seconds } as JSON on stdout")
    .option("--quiet", "no summary on stderr")
    .action(async (o) => {
      const { needs, onGpu } = strategy(o.strategy);
      const file = await openPool(o.pool, onGpu);
      try {
        await selectFrom(o, file, needs, onGpu);
      } finally {
        file.close();
      }
    });
}

/** The selection on an open pool file, printed as the options say. */
async function selectFrom(
  o: {
    pool: string;
    strategy: string;
    budget: number;
    seed: number;
    backend: BackendChoice;
    json?: true;
    quiet?: true;
  },
  file: PoolFile,
  needs: { probs: boolean; features: boolean },
  onGpu: boolean,
) {
  const { pool, labeled } = await poolTensors(o.pool, file, o.strategy);
  const named = (e: unknown): never => {
    throw e instanceof InputError ? new InputError(`${o.pool}: ${e.message}`) : e;
  };
  try {
    checkInputs(strategy(o.strategy), pool, labeled, o.budget);
  } catch (e) {
    named(e);
  }
  const run = async (p: Pool, l: Labeled) => {
    const t0 = performance.now();
    const indices = await select(o.strategy, p, l, o.budget, Rng.fromSeed(o.seed));
    return { indices, seconds: (performance.now() - t0) / 1000 };
  };
  // GPU strategies: the clock starts once the matrices are on the device, but for a pool
  // streamed from the file (packed slice by slice), which it includes.
  const onDevice = () =>
    scopeAsync(async () => {
      // Only what the strategy reads goes to the device.
      const p = {
        probs: needs.probs ? upload(pool.probs) : undefined,
        features: needs.features ? upload(pool.features) : undefined,
      };
      const l = {
        probs: needs.probs ? upload(labeled.probs) : undefined,
        features: needs.features ? upload(labeled.features) : undefined,
      };
      await engine().sync();
      return await run(p, l);
    });
  const result = await (onGpu ? withEngine(o.backend, onDevice) : run(pool, labeled)).catch(
    named,
  );
  const indices = Array.from(result.indices);
  if (o.json) console.log(JSON.stringify({ indices, seconds: result.seconds }));
  else console.log(indices.join(" "));
  if (!o.quiet) {
    console.error(
      `${o.strategy}: ${indices.length} rows selected in ${result.seconds.toFixed(4)} s`,
    );
  }
}
