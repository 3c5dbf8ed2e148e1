/**
 * Acquires a GPUDevice from Dawn (`npm:webgpu`) or from Deno's built-in `navigator.gpu` (wgpu).
 * Requests the adapter's real limits and the useful optional features, and turns uncaptured
 * errors and device loss into state the engine surfaces as exceptions at its next sync point.
 */
import { GpuError } from "./errors.ts";
import { explainNoDawnAdapter, probeVulkan } from "./vulkan_probe.ts";

export type Backend = "dawn" | "native";
export type BackendChoice = Backend | "auto";

export interface AdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallback: boolean;
}

export interface Gpu {
  device: GPUDevice;
  backend: Backend;
  adapter: AdapterDescription;
  features: ReadonlySet<string>;
  limits: Readonly<Record<string, number>>;
  /** The first uncaptured error or loss since the last `takeError()`, if any. */
  takeError(): string | undefined;
  destroy(): void;
  /** The backend's entry object, held for the device's lifetime. */
  readonly instance: unknown;
}

const WANTED_FEATURES = ["shader-f16", "subgroups", "timestamp-query"] as const;

const NO_NATIVE_ADAPTER = "the built-in backend (wgpu) found no adapter: install a GPU driver, " +
  "or Mesa's software one (apt-get install mesa-vulkan-drivers)";

type GpuEntry = { requestAdapter(o?: GPURequestAdapterOptions): Promise<GPUAdapter | null> };

/** Dawn's entry object, or the error that kept it from loading. */
async function dawnEntry(): Promise<GpuEntry | { error: unknown }> {
  try {
    // Dawn needs a runtime dir for its Vulkan loader on headless machines.
    if (!Deno.env.get("XDG_RUNTIME_DIR")) Deno.env.set("XDG_RUNTIME_DIR", Deno.makeTempDirSync());
    const { create, globals } = await import("webgpu");
    // Dawn's constants (GPUBufferUsage...) are the same numbers as Deno's; only fill what is absent.
    for (const [k, v] of Object.entries(globals)) {
      if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
    }
    // Robustness transforms cost ~2x on llvmpipe; our kernels bound-check themselves.
    return create([
      "enable-dawn-features=allow_unsafe_apis,disable_robustness",
      // Timestamps to the nanosecond, not rounded to ~131 µs: bench roofline times with them.
      "disable-dawn-features=timestamp_quantization",
    ]) as unknown as GpuEntry;
  } catch (error) {
    return { error };
  }
}

/**
 * wgpu enumerates every backend it was built with, and on Linux its OpenGL one brings up EGL and
 * Mesa's GL driver: 20 MB resident (152 -> 132 MB for a bare engine on llvmpipe) for adapters we
 * never pick there, Vulkan being our prerequisite (tools/prereq.sh), as for Dawn. So on Linux the
 * built-in backend asks wgpu for Vulkan only, unless `DENO_WEBGPU_BACKEND` (read by Deno when it
 * creates wgpu's instance, at the first adapter request) says otherwise.
 */
function nativeEntry(): GpuEntry | undefined {
  if (Deno.build.os === "linux" && Deno.env.get("DENO_WEBGPU_BACKEND") === undefined) {
    Deno.env.set("DENO_WEBGPU_BACKEND", "vulkan");
  }
  return (navigator as { gpu?: GpuEntry }).gpu;
}

function describe(adapter: GPUAdapter): AdapterDescription {
  const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  return {
    vendor: String(info.vendor ?? ""),
    architecture: String(info.architecture ?? ""),
    device: String(info.device ?? ""),
    description: String(info.description ?? ""),
    isFallback: Boolean(
      info.isFallbackAdapter ?? /llvmpipe|lavapipe|swiftshader/i.test(
        String(info.description ?? ""),
      ),
    ),
  };
}

function limitsOf(supported: GPUSupportedLimits): Record<string, number> {
  const out: Record<string, number> = {};
  // GPUSupportedLimits exposes its values as prototype getters, not own properties.
  const proto = Object.getPrototypeOf(supported);
  for (const k of Object.getOwnPropertyNames(proto)) {
    const v = (supported as unknown as Record<string, unknown>)[k];
    if (typeof v === "number") out[k] = v;
  }
  return out;
}

async function open(entry: GpuEntry, backend: Backend): Promise<Gpu | undefined> {
  const adapter = await entry.requestAdapter({ powerPreference: "high-performance" });
  if (!adapter) return undefined;
  const adapterFeatures = new Set<string>(adapter.features as unknown as Iterable<string>);
  const requiredFeatures = WANTED_FEATURES.filter((f) => adapterFeatures.has(f));
  // Dynamic-offset limits are skipped: we use none, and Dawn warns when they are raised.
  const requiredLimits = Object.fromEntries(
    Object.entries(limitsOf(adapter.limits)).filter(([k]) => !k.includes("Dynamic")),
  );
  const device = await adapter.requestDevice({
    requiredFeatures: requiredFeatures as GPUFeatureName[],
    requiredLimits,
  });
  let pending: string | undefined;
  device.addEventListener("uncapturederror", (ev) => {
    const e = (ev as GPUUncapturedErrorEvent).error;
    const kind = e.constructor?.name ?? "GPUError";
    pending ??= `${kind}: ${e.message}`;
  });
  let destroyed = false;
  device.lost.then((info) => {
    if (!destroyed) pending ??= `device lost (${info.reason}): ${info.message}`;
  });
  // Dawn's instance must stay referenced while the device lives (its event polling runs on it;
  // once collected, pending maps never resolve), and must be dropped for the process to exit.
  let instance: GpuEntry | undefined = entry;
  const limits = limitsOf(device.limits);
  return {
    device,
    backend,
    adapter: describe(adapter),
    features: new Set<string>(device.features as unknown as Iterable<string>),
    limits,
    takeError() {
      const e = pending;
      pending = undefined;
      return e;
    },
    destroy() {
      destroyed = true;
      device.destroy();
      instance = undefined;
    },
    get instance() {
      return instance;
    },
  };
}

/**
 * The `auto` rule, from measurements on llvmpipe (README, "Backends"): on a software adapter the
 * built-in backend wins (same or better kernel throughput, faster pipeline compiles, and Dawn's
 * event polling keeps a CPU core busy that llvmpipe's workers need); on a hardware adapter Dawn
 * wins (sub-millisecond readback, subgroups). So: the built-in backend when its adapter is a
 * software one, else Dawn, else whatever adapter exists. `AUTO_ORDER` is the rule as data;
 * `AUTO_RULE` says it in words for the CLI's `--backend` help (one source for both).
 */
export const AUTO_ORDER: Readonly<Record<"software" | "hardware", readonly Backend[]>> = {
  software: ["native", "dawn"],
  hardware: ["dawn", "native"],
};
const NAMES: Record<Backend, string> = { native: "built-in", dawn: "Dawn" };
const inWords = (backends: readonly Backend[]) => backends.map((b) => NAMES[b]).join(", then ");
export const AUTO_RULE = `if the built-in backend's adapter is a software one: ` +
  `${inWords(AUTO_ORDER.software)}; else ${inWords(AUTO_ORDER.hardware)}`;

async function autoOrder(): Promise<readonly Backend[]> {
  const native = nativeEntry();
  const adapter = await native?.requestAdapter({ powerPreference: "high-performance" });
  return AUTO_ORDER[adapter && describe(adapter).isFallback ? "software" : "hardware"];
}

/** Opens a device on the chosen backend (`auto`: see `autoOrder`); else says why none opened. */
export async function acquireGpu(choice: BackendChoice = "auto"): Promise<Gpu> {
  const order: readonly Backend[] = choice === "auto" ? await autoOrder() : [choice];
  const why: string[] = [];
  for (const backend of order) {
    const entry = backend === "dawn" ? await dawnEntry() : nativeEntry();
    if (entry && !("error" in entry)) {
      const gpu = await open(entry, backend);
      if (gpu) return gpu;
    }
    if (backend === "native") {
      why.push(entry ? NO_NATIVE_ADAPTER : "the built-in backend: this Deno has no navigator.gpu");
    } else {
      const error = entry && "error" in entry ? entry.error : undefined;
      why.push(`Dawn: ${explainNoDawnAdapter(await probeVulkan(), error)}`);
    }
  }
  const none = choice === "auto" ? "no backend has a" : `backend '${choice}' has no`;
  throw new GpuError(`${none} WebGPU adapter here: ${why.join("; ")}`);
}
