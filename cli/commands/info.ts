/** `akd info`: the adapter, backend, limits and features. */
import { Command } from "@commander-js/extra-typings";
import { backendOption, emit, jsonOption, withEngine } from "../common.ts";

export function infoCommand() {
  return new Command("info")
    .description("show the WebGPU adapter, backend, limits and features")
    .addOption(backendOption())
    .addOption(jsonOption())
    .action(async (opts) => {
      await withEngine(opts.backend, (e) => {
        const g = e.gpu;
        const info = {
          backend: g.backend,
          adapter: g.adapter,
          fallback: g.adapter.isFallback,
          features: [...g.features].sort(),
          limits: g.limits,
          deno: Deno.version.deno,
        };
        emit(opts.json, info, () =>
          [
            `backend   ${g.backend}`,
            `adapter   ${g.adapter.description || g.adapter.device} (${g.adapter.vendor}` +
            `${g.adapter.architecture ? ", " + g.adapter.architecture : ""})`,
            `fallback  ${g.adapter.isFallback ? "yes (software adapter)" : "no"}`,
            `features  ${info.features.join(", ") || "-"}`,
            `limits    maxStorageBufferBindingSize=${g.limits.maxStorageBufferBindingSize}, ` +
            `maxBufferSize=${g.limits.maxBufferSize}, ` +
            `maxComputeWorkgroupStorageSize=${g.limits.maxComputeWorkgroupStorageSize}, ` +
            `maxComputeInvocationsPerWorkgroup=${g.limits.maxComputeInvocationsPerWorkgroup}`,
          ].join("\n"));
        return Promise.resolve();
      });
    });
}
