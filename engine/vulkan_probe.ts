/**
 * Why Dawn has no adapter. Dawn reaches the GPU through Vulkan, which it loads at run time: a
 * missing loader (`libvulkan1`), no driver manifest (ICD), or a Mesa older than 23 (lavapipe
 * too old for Dawn) all look the same from Dawn — `requestAdapter` returns null — so we look at
 * the machine and name the cause. `probeVulkan` gathers the facts; `explainNoDawnAdapter` is a
 * pure function of them.
 */

export interface VulkanProbe {
  /** libvulkan.so.1 (the Vulkan loader) can be opened. */
  loader: boolean;
  /** Where driver manifests were looked for: the env variable that names them, or the dirs. */
  icdSource: string;
  /** Driver manifests (ICD JSON files) found there. */
  icds: string[];
  /** The installed mesa-vulkan-drivers' Debian version, if known. */
  mesaVersion?: string;
}

const ICD_DIRS = ["/usr/share/vulkan/icd.d", "/etc/vulkan/icd.d", "/usr/local/share/vulkan/icd.d"];
const MESA_FIX = "apt-get install mesa-vulkan-drivers (Debian 12: add -t bookworm-backports)";

/** The cause, one line: what is missing and the command that installs it. */
export function explainNoDawnAdapter(p: VulkanProbe, error?: unknown): string {
  if (error !== undefined) {
    const message = error instanceof Error ? error.message : String(error);
    return `npm:webgpu failed to load: ${message.split("\n")[0]}`;
  }
  if (!p.loader) {
    return "the Vulkan loader libvulkan.so.1 is missing: install it with apt-get install libvulkan1";
  }
  if (p.icds.length === 0) {
    return `no Vulkan driver (ICD manifest) in ${p.icdSource}: install Mesa's with ${MESA_FIX}`;
  }
  const major = Number(p.mesaVersion?.match(/^(?:\d+:)?(\d+)\./)?.[1]);
  if (major < 23) {
    return `Mesa ${p.mesaVersion} is too old for Dawn (its lavapipe needs Mesa >= 23): ` +
      `install a newer one with ${MESA_FIX}`;
  }
  return `Vulkan found no device it can use (loader present, drivers ${p.icds.join(", ")}` +
    (p.mesaVersion ? `, Mesa ${p.mesaVersion}` : "") + ")";
}

/** Looks at this machine: the loader, the driver manifests, the Mesa package version. */
export async function probeVulkan(): Promise<VulkanProbe> {
  let loader = false;
  try {
    Deno.dlopen("libvulkan.so.1", {}).close();
    loader = true;
  } catch {
    loader = false; // not found, or not allowed to look: either way Dawn cannot load it
  }
  const named = ["VK_DRIVER_FILES", "VK_ICD_FILENAMES"].find((v) => Deno.env.get(v));
  let icdSource: string;
  let icds: string[];
  if (named) {
    icdSource = `${named}=${Deno.env.get(named)}`;
    icds = Deno.env.get(named)!.split(":").flatMap((f) => {
      try {
        return Deno.statSync(f).isFile ? [f] : [];
      } catch {
        return []; // a named manifest that is not there is what we report
      }
    });
  } else {
    icdSource = ICD_DIRS.join(", ");
    icds = ICD_DIRS.flatMap((dir) => {
      try {
        return [...Deno.readDirSync(dir)].filter((e) => e.name.endsWith(".json")).map((e) =>
          e.name
        );
      } catch {
        return [];
      }
    });
  }
  return { loader, icdSource, icds, mesaVersion: await debianVersion("mesa-vulkan-drivers") };
}

/** An installed Debian package's version, or undefined (not installed, not Debian, no dpkg). */
export async function debianVersion(pkg: string): Promise<string | undefined> {
  try {
    const out = await new Deno.Command("dpkg-query", {
      args: ["-W", "-f=${Version}", pkg],
      stdout: "piped",
      stderr: "null",
    }).output();
    const version = new TextDecoder().decode(out.stdout).trim();
    return out.success && version ? version : undefined;
  } catch {
    return undefined; // not Debian, or no dpkg-query
  }
}
