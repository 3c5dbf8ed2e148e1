/**
 * Which Mesa runs the adapter (docs/cli.md, `info`). The Vulkan driver's own words come first:
 * Dawn's adapter description is the Vulkan driver info ("llvmpipe: Mesa 25.0.7-2~bpo12+1 (LLVM
 * 15.0.6) 0.0.1"). The built-in backend (wgpu) shows only the device name ("llvmpipe (LLVM 15.0.6,
 * 256 bits)"); there the installed Debian package mesa-vulkan-drivers stands in, and `source`
 * says so. A non-Mesa adapter has no Mesa version, whatever is installed.
 */
import type { AdapterDescription } from "./device.ts";
import { debianVersion } from "./vulkan_probe.ts";

export interface MesaVersion {
  version: string;
  source: "adapter" | "dpkg mesa-vulkan-drivers";
}

/** Vulkan's vendor id of Mesa's own drivers (VK_VENDOR_ID_MESA); wgpu gives it in decimal. */
const MESA_VENDOR_ID = 0x10005;

/** Mesa's Vulkan drivers as their device names show them (Intel's anv shows only "Intel(R) ..."). */
const MESA_DRIVER =
  /\bMesa\b|llvmpipe|lavapipe|\bRADV\b|\bNVK\b|turnip|\bV3DV\b|PanVK|Venus|Dozen/i;

/** The version in a description such as "llvmpipe: Mesa 25.0.7-2~bpo12+1 (LLVM 15.0.6) 0.0.1". */
export function mesaFromDescription(description: string): string | undefined {
  return description.match(/\bMesa (\d+\.\d+[^\s()]*)/)?.[1];
}

export function isMesaAdapter(a: AdapterDescription): boolean {
  return a.vendor.toLowerCase() === "mesa" || Number(a.vendor) === MESA_VENDOR_ID ||
    MESA_DRIVER.test(a.description) || MESA_DRIVER.test(a.device);
}

/**
 * The adapter's Mesa version; `dpkg` looks a package up (injected so tests can fail it).
 * Undefined when the adapter is not Mesa's, or no source knows the version.
 */
export async function mesaVersion(
  adapter: AdapterDescription,
  dpkg: (pkg: string) => Promise<string | undefined> = debianVersion,
): Promise<MesaVersion | undefined> {
  const fromAdapter = mesaFromDescription(adapter.description);
  if (fromAdapter) return { version: fromAdapter, source: "adapter" };
  if (!isMesaAdapter(adapter)) return undefined;
  const installed = await dpkg("mesa-vulkan-drivers");
  return installed ? { version: installed, source: "dpkg mesa-vulkan-drivers" } : undefined;
}
