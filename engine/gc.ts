/**
 * A full V8 garbage collection. Deno's built-in WebGPU releases its objects (bind groups among
 * them) only when the collector finalises their wrappers, which small JS heaps rarely trigger;
 * the engine collects explicitly when it drops many of them at once (bind_groups.ts).
 * `--expose-gc` is switched on at run time through node:v8, so no command-line flag is needed.
 */
import v8 from "node:v8";
import { runInNewContext } from "node:vm";

let gc: (() => void) | undefined;

export function collectGarbage(): void {
  if (!gc) {
    v8.setFlagsFromString("--expose-gc");
    gc = runInNewContext("gc") as () => void;
  }
  gc();
}
