/** Benchmark names → their runners (docs/cli.md: roofline, gemm, conv, softmax-kl…). */
import type { BenchOptions, BenchRecord } from "./harness.ts";

type Runner = (opts: BenchOptions) => Promise<BenchRecord[]>;

/** Loaded on demand so one benchmark's imports never slow another's start. */
function lazy(file: string, name: string): Runner {
  return async (opts) => {
    const mod = await import(new URL(file, import.meta.url).href);
    return (mod[name] as Runner)(opts);
  };
}

/** In this order for `all`: the roofline first, so the others' ceilings use this run's. */
export const BENCHMARKS: Record<string, Runner> = {
  roofline: lazy("./roofline.ts", "benchRoofline"),
  gemm: lazy("./gemm.ts", "benchGemm"),
  "softmax-kl": lazy("./softmax_kl.ts", "benchSoftmaxKl"),
  conv: lazy("./conv.ts", "benchConv"),
  "train-step": lazy("./train_step.ts", "benchTrainStep"),
  pcoreset: lazy("./pcoreset.ts", "benchPcoreset"),
  clip: lazy("./clip.ts", "benchClip"),
  data: lazy("./data.ts", "benchData"),
};
