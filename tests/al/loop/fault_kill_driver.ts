/**
 * Child process of fault_kill_test.ts: runs the experiment of a config file as `akd run` does,
 * but SIGKILLs its own process inside output write number `k` (0: config.json, then every
 * state.json, then report.csv, curve.svg, report.json), after `fraction` of the bytes reached
 * the temporary file: what a kill inside writeFileAtomic leaves behind.
 *
 *   deno run -A fault_kill_driver.ts CONFIG.json BACKEND K FRACTION
 */
import { basename, dirname, join } from "node:path";
import { loadConfig } from "../../../al/config.ts";
import { runExperiment } from "../../../al/loop/experiment.ts";
import { strategySelector } from "../../../al/loop/select.ts";
import { TerminalProgress } from "../../../cli/progress.ts";
import { closeEngine, initEngine } from "../../../engine/context.ts";
import type { BackendChoice } from "../../../engine/device.ts";
import { writeFileAtomic } from "../../../engine/files.ts";

const [file, backend, k, fraction] = Deno.args;
const config = await loadConfig(file);
await initEngine({ backend: backend as BackendChoice });
let writes = 0;
await runExperiment(config, {
  select: strategySelector(),
  progress: new TerminalProgress({ tty: false }),
  writeFile: async (path, data) => {
    if (writes++ === Number(k)) {
      const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
      const temp = join(dirname(path), `.${basename(path)}.${Deno.pid}.killed.tmp`);
      await Deno.writeFile(temp, bytes.subarray(0, Math.floor(bytes.length * Number(fraction))));
      console.error(`killed inside the write of ${path}`);
      Deno.kill(Deno.pid, "SIGKILL");
    }
    await writeFileAtomic(path, data);
  },
});
closeEngine();
