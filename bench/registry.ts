/** Benchmark names → their runners (docs/cli.md: gemm, conv, softmax-kl, pcoreset, train-step…). */
import type { BenchOptions, BenchRecord } from "./harness.ts";

type Runner = (opts: BenchOptions) => Promise<BenchRecord[]>;

/** Loaded on demand so one benchmark's imports never slow another's start. */
function lazy(file: string, name: string): Runner {
  return async (opts) => {
    const mod = await import(new URL(file, import.meta.url).href);
    return (mod[name] as Runner)(opts);
  };
}

export const BENCHMARKS: Record<string, Runner> = {
  gemm: lazy("./gemm.ts", "benchGemm"),
  "softmax-kl": lazy("./softmax_kl.ts", "benchSoftmaxKl"),
  conv: lazy("./conv.ts", "benchConv"),
  "train-step": lazy("./train_step.ts", "benchTrainStep"),
  pcoreset: lazy("./pcoreset.ts", "benchPcoreset"),
  clip: lazy("./clip.ts", "benchClip"),
  data: lazy("./data.ts", "benchData"),
};
