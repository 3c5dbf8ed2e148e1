/**
 * `akd demo [--out DIR] [--seeds LIST] [--sizes auto|cpu|paper] [--clip DIR]`: the
 * embedded-default experiment (al/demo.ts), offline; writes the same outputs as `run`.
 */
import { Command, Option } from "@commander-js/extra-typings";
import { DEMO_PROFILES, demoConfig, demoPreface, type DemoProfile } from "../../al/demo.ts";
import { parseFlagValue, resolveConfig } from "../../al/config.ts";
import { backendOption, jsonOption, quietOption, withEngine } from "../common.ts";
import { executeRun } from "./run.ts";

export function demoCommand() {
  return new Command("demo")
    .description(
      "ActiveKD on Fashion-MNIST over 3 seeds: random and PCoreSet distilled from the teacher, " +
        "and random with no teacher; the teacher is a classifier trained on a held-out slice, " +
        "or zero-shot CLIP with --clip",
    )
    .option("--out <dir>", "output folder", "runs/demo")
    .option("--seeds <list>", "comma-separated seeds", "1,2,3")
    .addOption(
      new Option(
        "--sizes <profile>",
        "cpu: narrowed ResNet-18 at 16×16 (fits ~6 min on a 2-core CPU); paper: full " +
          "ResNet-18 at 32×32, repeat 200; auto: paper on a hardware adapter, cpu on a " +
          "software one",
      ).choices(["auto", ...DEMO_PROFILES] as const).default("auto" as const),
    )
    .option("--clip <dir>", "CLIP weights (folder with a .safetensors and the BPE vocabulary)")
    .option("--resume", "continue an interrupted demo in --out")
    .option("--force", "run again even if --out holds a finished demo")
    .addOption(backendOption())
    .addOption(jsonOption())
    .addOption(quietOption())
    .action(async (o) => {
      // The seeds go through the run config's checks (integers, no duplicates), named by flag.
      const seeds = resolveConfig(undefined, { seeds: parseFlagValue("seeds", o.seeds) }, "--seeds")
        .seeds;
      await withEngine(o.backend, async (e) => {
        const profile: DemoProfile = o.sizes === "auto"
          ? (e.gpu.adapter.isFallback ? "cpu" : "paper")
          : o.sizes;
        const config = demoConfig({ out: o.out, seeds, clip: o.clip, profile });
        await executeRun(
          config,
          o,
          `ActiveKD demo: ${config.dataset}`,
          demoPreface(config, profile),
        );
      });
    });
}
