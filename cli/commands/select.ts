/**
 * `akd select --strategy S --pool P --budget K [--seed N] [--json]`: one active-learning
 * selection step on the matrices in a safetensors file. Prints the chosen pool rows;
 * `--json`: `{ "indices": [...], "seconds": s }`, seconds = the selection alone, after the pool
 * is on the device.
 */
import { Command } from "@commander-js/extra-typings";
import { engine } from "../../engine/context.ts";
import { InputError } from "../../engine/errors.ts";
import { Rng } from "../../engine/rng.ts";
import { type HostTensor, loadSafetensors } from "../../engine/safetensors.ts";
import { scopeAsync, Tensor, tensor } from "../../engine/tensor.ts";
import {
  checkInputs,
  type Labeled,
  type Matrix,
  type Pool,
  select,
  strategy,
  STRATEGY_NAMES,
} from "../../al/strategies/mod.ts";
import { backendOption, intArg, withEngine } from "../common.ts";

/** The tensors a strategy reads from the pool file (absent optional ones stay undefined). */
function poolTensors(file: string, tensors: Map<string, HostTensor>, name: string) {
  const s = strategy(name);
  const matrix = (key: string, required: boolean): Matrix | undefined => {
    const t = tensors.get(key);
    if (!t) {
      if (required) throw new InputError(`${file}: no tensor "${key}" (${name} needs it)`);
      return undefined;
    }
    if (t.dtype !== "f32") {
      throw new InputError(`${file}: "${key}" must be float32, not ${t.dtype}`);
    }
    return { data: t.data as Float32Array, shape: t.shape };
  };
  const pool: Pool = {
    probs: matrix("probs", s.needs.probs),
    features: matrix("features", s.needs.features),
  };
  if (!pool.probs && !pool.features) {
    throw new InputError(`${file}: no tensor "probs" or "features"`);
  }
  const labels = tensors.get("labeled_labels");
  if (labels && (labels.dtype !== "i32" || labels.shape.length !== 1)) {
    throw new InputError(`${file}: "labeled_labels" must be int32 [M]`);
  }
  const labeled: Labeled = {
    probs: matrix("labeled_probs", false),
    features: matrix("labeled_features", false),
    labels: labels?.data as Int32Array | undefined,
  };
  return { pool, labeled };
}

function upload(m: Matrix | undefined): Matrix | undefined {
  return m && !(m instanceof Tensor) ? tensor(m.data, m.shape) : m;
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
      const file = await loadSafetensors(o.pool);
      const { pool, labeled } = poolTensors(o.pool, file.tensors, o.strategy);
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
      // GPU strategies: the clock starts once the matrices are on the device.
      const { needs, onGpu } = strategy(o.strategy);
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
    });
}
