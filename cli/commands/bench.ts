/** `akd bench [name|all]`: micro-benchmarks beside a reference, as a table or JSON. */
import { Argument, Command, Option } from "@commander-js/extra-typings";
import { backendOption, jsonOption, quietOption, withEngine } from "../common.ts";
import { BENCH_SIZES, type BenchOptions, type BenchRecord } from "../../bench/harness.ts";
import { BENCHMARKS } from "../../bench/registry.ts";
import { addCeilings } from "../../bench/roofline.ts";
import type { Ceiling } from "../../bench/ceiling.ts";

/** "31.2% of alu": the share of the roofline bound reached (docs/cli.md, "Ceilings"). */
function ceilingText(c: Ceiling | undefined): string {
  return c ? `${(100 * c.fraction).toFixed(1)}% of ${c.bound}` : "-";
}

function table(records: BenchRecord[]): string {
  const rows = records.map((r) => [
    r.name,
    r.case,
    `${r.ours.throughput.toFixed(2)} ${r.ours.unit}`,
    `${r.ours.seconds.toExponential(3)} s`,
    `${r.reference.name}: ${r.reference.throughput.toFixed(2)}`,
    `${r.ratio.toFixed(3)}x`,
    ceilingText(r.notes?.ceiling as Ceiling | undefined),
  ]);
  const head = ["bench", "case", "ours", "time", "reference", "ratio", "ceiling"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join("  ");
  return [line(head), ...rows.map(line)].join("\n");
}

export function benchCommand() {
  const names = Object.keys(BENCHMARKS);
  return new Command("bench")
    .description("kernel and end-to-end benchmarks beside a reference (PyTorch CPU when present)")
    .addArgument(
      new Argument("[name]", "which benchmark").choices([...names, "all"]).default("all"),
    )
    .addOption(backendOption())
    .addOption(jsonOption())
    .addOption(quietOption())
    .option("--quick", "smaller cases and fewer iterations (whatever --sizes says)")
    .addOption(
      new Option(
        "--sizes <profile>",
        "cpu: cases for a 2-core CPU adapter; gpu: the hardware targets (GEMM 4096³, PCoreSet " +
          "N=1,000,000 C=1,000 K=1,000); auto: gpu on a hardware adapter, cpu on a software one",
      ).choices(["auto", ...BENCH_SIZES] as const).default("auto" as const),
    )
    .action(async (name, opts) => {
      const chosen = name === "all" ? names : [name];
      await withEngine(opts.backend, async (e) => {
        const all: BenchRecord[] = [];
        const sizes = opts.sizes === "auto"
          ? (e.gpu.adapter.isFallback ? "cpu" : "gpu")
          : opts.sizes;
        const options: BenchOptions = { quick: opts.quick, sizes };
        if (!opts.quiet) {
          console.error(
            `adapter: ${e.gpu.adapter.description} (backend ${e.gpu.backend}), ` +
              `${opts.quick ? "quick" : sizes} sizes`,
          );
        }
        for (const n of chosen) {
          if (!opts.quiet) console.error(`running ${n}...`);
          const records = await BENCHMARKS[n](options);
          await addCeilings(records, options);
          all.push(...records);
        }
        if (opts.json) console.log(JSON.stringify(all, null, 2));
        else console.log(table(all));
      });
    });
}
