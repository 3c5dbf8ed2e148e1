/**
 * `akd data --dataset SPEC [--json]`: opens a dataset and decodes every image once, so a corrupt
 * or missing file is reported (exit 2, naming it) before an experiment starts. Prints the class
 * names and split sizes: `{ "classes": [...], "train": n, "val": n, "test": n, "decoder": s }` with
 * `--json` (`decoder`: sharp, or the JavaScript fallback and why: al/data/decode.ts).
 */
import { Command } from "@commander-js/extra-typings";
import { DATASET_SPEC_HELP, openDataset } from "../../al/data/open.ts";
import { imageDecoder } from "../../al/data/decode.ts";
import { intArg } from "../common.ts";

export function dataCommand() {
  return new Command("data")
    .description("load and check a dataset: decodes every image, prints classes and split sizes")
    .requiredOption("--dataset <spec>", DATASET_SPEC_HELP)
    .option("--json", "print the result as JSON on stdout")
    .option("--seed <n>", "seed of folder:'s stratified split", intArg("--seed"), 0)
    .option(
      "--cache-size <n>",
      "also fill the decoded-image cache at this shorter side ($AKD_CACHE or .cache/activekd)",
      intArg("--cache-size", 1),
    )
    .option("--skip-bad", "leave unreadable images out with a warning instead of failing")
    .option("--quiet", "no progress or warnings on stderr")
    .action(async (options) => {
      const quiet = options.quiet ?? false;
      const ds = await openDataset(options.dataset, {
        seed: options.seed,
        cacheSize: options.cacheSize,
        verify: true,
        skipBad: options.skipBad ?? false,
        onWarning: quiet ? undefined : (m) => console.error(`warning: ${m}`),
        onProgress: quiet ? undefined : progressPrinter(),
      });
      const { train, val, test } = ds.splits;
      const decoder = await imageDecoder();
      if (!quiet) console.error(`decoder: ${decoder}`);
      if (!quiet && ds.skipped > 0) console.error(`skipped ${ds.skipped} unreadable images`);
      if (!quiet && ds.cache) {
        console.error(`cache ${ds.cache.hit ? "hit" : "written"}: ${ds.cache.file}`);
      }
      const result = {
        classes: ds.classes,
        train: train.length,
        val: val.length,
        test: test.length,
        decoder,
      };
      if (options.json) {
        console.log(JSON.stringify(result));
      } else {
        console.log(
          `${ds.name}: ${ds.classes.length} classes; train ${result.train}, val ${result.val}, ` +
            `test ${result.test}`,
        );
      }
    });
}

/** At most one progress line every 2 seconds, on stderr. */
function progressPrinter(): (done: number, total: number) => void {
  let last = performance.now();
  return (done, total) => {
    const now = performance.now();
    if (now - last < 2000) return;
    last = now;
    console.error(`decoded ${done}/${total}`);
  };
}
