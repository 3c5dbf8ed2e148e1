/**
 * `akd demo [--out DIR] [--seed N] [--clip DIR]`: the embedded-default experiment (al/demo.ts),
 * offline; writes the same outputs as `run`.
 */
import { Command } from "@commander-js/extra-typings";
import { demoConfig, demoPreface } from "../../al/demo.ts";
import { backendOption, intArg, jsonOption, quietOption } from "../common.ts";
import { executeRun } from "./run.ts";

export function demoCommand() {
  return new Command("demo")
    .description(
      "ActiveKD on Fashion-MNIST: ResNet-18 student at 32×32, PCoreSet vs random, 3 AL rounds; " +
        "the teacher is a classifier trained on a held-out slice, or zero-shot CLIP with --clip",
    )
    .option("--out <dir>", "output folder", "runs/demo")
    .option("--seed <n>", "random seed", intArg("--seed"), 1)
    .option("--clip <dir>", "CLIP weights (folder with a .safetensors and the BPE vocabulary)")
    .option("--resume", "continue an interrupted demo in --out")
    .option("--force", "run again even if --out holds a finished demo")
    .addOption(backendOption())
    .addOption(jsonOption())
    .addOption(quietOption())
    .action(async (o) => {
      const config = demoConfig({ out: o.out, seed: o.seed, clip: o.clip });
      await executeRun(config, o, `ActiveKD demo: ${config.dataset}`, demoPreface(config));
    });
}
