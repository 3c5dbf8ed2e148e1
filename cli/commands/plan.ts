/**
 * `akd plan --config C.json [flags]`: before a run, the device memory each phase needs (the
 * teacher's batch, a training step, pool scoring, each strategy's selection) for the configured
 * models, pool size and classes, checked against the adapter's limits, with the largest batch
 * that fits (al/loop/plan.ts; docs/cli.md "plan"). Takes the same config and flags as `run`.
 * Exit 2 when a phase does not fit (after printing the plan), as `run` would refuse.
 */
import { Command } from "@commander-js/extra-typings";
import { experimentSplits } from "../../al/loop/experiment_data.ts";
import { bytesText, MAX_SEARCH_BATCH, misfit, planRun, type RunPlan } from "../../al/loop/plan.ts";
import { openDataset } from "../../al/data/open.ts";
import type { BackendChoice } from "../../engine/device.ts";
import { InputError } from "../../engine/errors.ts";
import { backendOption, emit, jsonOption, withEngine } from "../common.ts";
import { addConfigOptions, configFromOptions } from "./run.ts";

const UNITS: Record<string, number> = { "": 1, B: 1, KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30 };

/** `--memory`: bytes, or a number with KiB, MiB or GiB. */
export function parseMemory(text: string): number {
  const m = text.trim().match(/^([0-9]+(?:\.[0-9]+)?)\s*(B|KiB|MiB|GiB)?$/);
  const bytes = m ? Math.floor(Number(m[1]) * UNITS[m[2] ?? ""]) : NaN;
  if (!(bytes > 0)) {
    throw new InputError(
      `--memory: expected a size such as 8GiB, 512MiB or a number of bytes, got "${text}"`,
    );
  }
  return bytes;
}

function table(plan: RunPlan): string {
  const l = plan.limits;
  const rows = [["phase", "batch", "max batch", "peak live", "buffers", "largest", "what"]];
  for (const p of plan.phases) {
    rows.push([
      p.phase,
      p.batch === undefined ? "-" : String(p.batch),
      p.maxBatch === undefined
        ? "-"
        : p.maxBatch === null
        ? "none"
        : `${p.maxBatch === MAX_SEARCH_BATCH ? ">=" : ""}${p.maxBatch}`,
      bytesText(p.peakBytes),
      bytesText(p.deviceBytes),
      bytesText(Math.max(p.largestBuffer, p.largestBinding)),
      p.what + (p.exceeds ? `  ✗ ${p.exceeds}` : ""),
    ]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const lines = rows.map((r) =>
    r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]))).join("  ")
  );
  return [
    `${plan.adapter} (${plan.backend}); ${plan.classes} classes, pool ${plan.pool}, ` +
    `up to ${plan.labeled} labeled`,
    `limits: maxBufferSize ${bytesText(l.maxBufferSize)}, maxStorageBufferBindingSize ` +
    `${bytesText(l.maxStorageBufferBindingSize)}, memory ` +
    (l.memory === undefined
      ? "not known (WebGPU does not say; --memory sets one)"
      : bytesText(l.memory)),
    ...lines,
    misfit(plan) === undefined ? "every phase fits" : "",
  ].filter((s) => s !== "").join("\n");
}

export function planCommand() {
  const cmd = new Command("plan")
    .description(
      "the device memory each phase of a run needs (teacher, training step, pool scoring, " +
        "selection), checked against the adapter's limits, with the largest batch that fits",
    )
    .option("--config <file>", "JSON config with run's keys in camelCase; flags override it")
    .option(
      "--memory <size>",
      "device memory budget to check against (e.g. 8GiB); WebGPU does not report one",
    )
    .addOption(backendOption())
    .addOption(jsonOption());
  addConfigOptions(cmd);
  return cmd.action(async (options) => {
    const opts = options as Record<string, unknown> & {
      config?: string;
      memory?: string;
      backend: BackendChoice;
      json?: boolean;
    };
    const memory = opts.memory === undefined ? undefined : parseMemory(opts.memory);
    const config = await configFromOptions(opts);
    const ds = await openDataset(config.dataset);
    const { data } = experimentSplits(ds, config);
    const plan = await withEngine(
      opts.backend,
      (e) =>
        planRun(config, { classes: ds.classes.length, train: data.train.length }, e.gpu, {
          memory,
          search: true,
        }),
    );
    emit(opts.json, plan, () => table(plan));
    const refusal = misfit(plan);
    if (refusal) throw new InputError(refusal);
  });
}
