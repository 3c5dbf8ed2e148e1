/** `akd info`: the adapter, backend, Mesa version, limits and features. */
import { Command } from "@commander-js/extra-typings";
import { backendOption, emit, jsonOption, withEngine } from "../common.ts";
import { type MesaVersion, mesaVersion } from "../../engine/mesa.ts";

const SOURCE: Record<MesaVersion["source"], string> = {
  adapter: "from the adapter's Vulkan driver info",
  "dpkg mesa-vulkan-drivers": "the installed Debian package mesa-vulkan-drivers",
};
const UNKNOWN = "- (not a Mesa adapter, or no source gives its version)";

export function infoCommand() {
  return new Command("info")
    .description("show the WebGPU adapter, backend, Mesa version, limits and features")
    .addOption(backendOption())
    .addOption(jsonOption())
    .action(async (opts) => {
      await withEngine(opts.backend, async (e) => {
        const g = e.gpu;
        const mesa = await mesaVersion(g.adapter);
        const info = {
          backend: g.backend,
          adapter: g.adapter,
          fallback: g.adapter.isFallback,
          mesa: mesa ?? null,
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
            `mesa      ${mesa ? `${mesa.version} (${SOURCE[mesa.source]})` : UNKNOWN}`,
            `features  ${info.features.join(", ") || "-"}`,
            `limits    maxStorageBufferBindingSize=${g.limits.maxStorageBufferBindingSize}, ` +
            `maxBufferSize=${g.limits.maxBufferSize}, ` +
            `maxComputeWorkgroupStorageSize=${g.limits.maxComputeWorkgroupStorageSize}, ` +
            `maxComputeInvocationsPerWorkgroup=${g.limits.maxComputeInvocationsPerWorkgroup}`,
          ].join("\n"));
      });
    });
}
