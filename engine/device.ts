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
  /**
   * Makes the errors raised since the last call pending for `takeError()` once the microtasks
   * queued now have run. Uncaptured errors reach their listener at a later event-loop turn, which
   * a fast readback does not wait for (engine/canvas_readback.ts): so on the built-in backend,
   * whose `popErrorScope` settles at once, the device always has error scopes open and this pops
   * and reopens them. Elsewhere it does nothing.
   */
  collectErrors(): void;
  destroy(): void;
  /** The backend's entry object, held for the device's lifetime. */
  readonly instance: unknown;
}

const WANTED_FEATURES = ["shader-f16", "subgroups", "timestamp-query"] as const;
const ERROR_FILTERS: readonly GPUErrorFilter[] = ["validation", "out-of-memory", "internal"];

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

type SetImmediate = (callback: (...args: unknown[]) => void, ...args: unknown[]) => unknown;

/**
 * Dawn's binding waits for GPU work by re-arming the global `setImmediate` while any of its
 * promises is pending: a spin that holds a CPU core. On a software adapter that core is one the
 * adapter's own threads (llvmpipe's shader compiler and workers) need: two Dawn processes
 * compiling the same cold pipelines side by side took 17.3 s, against 4.2 s with each poll
 * waiting for a timer. So there `setImmediate` is paced by a 1 ms timer (about 2 ms a poll
 * here); nothing else in this process relies on it (fflate's error path alone calls it). A
 * hardware adapter keeps the spin, and with it Dawn's sub-millisecond readback.
 */
export function paceDawnPolling(global: { setImmediate: SetImmediate }): void {
  global.setImmediate = (callback, ...args) => setTimeout(callback, 1, ...args);
}

async function open(entry: GpuEntry, backend: Backend): Promise<Gpu | undefined> {
  const adapter = await entry.requestAdapter({ powerPreference: "high-performance" });
  if (!adapter) return undefined;
  if (backend === "dawn" && describe(adapter).isFallback) {
    paceDawnPolling(globalThis as unknown as { setImmediate: SetImmediate });
  }
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
  const note = (e: GPUError | null) => {
    if (e) pending ??= `${e.constructor?.name ?? "GPUError"}: ${e.message}`;
  };
  device.addEventListener("uncapturederror", (ev) => note((ev as GPUUncapturedErrorEvent).error));
  const scoped = backend === "native";
  if (scoped) { for (const filter of ERROR_FILTERS) device.pushErrorScope(filter); }
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
    collectErrors() {
      if (!scoped) return;
      for (const _ of ERROR_FILTERS) device.popErrorScope().then(note);
      for (const filter of ERROR_FILTERS) device.pushErrorScope(filter);
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
 * The `auto` rule, from measurements (README, "Backends"): Dawn first, on hardware adapters
 * (subgroups, lower dispatch overhead) and on software ones alike. On llvmpipe (2 cores, Mesa
 * 25.0.7) its subgroups and its paced poll (`paceDawnPolling`) made it the faster one for the
 * work: 1024³ GEMM 24-27 GFLOP/s against 11-14 built-in, a ResNet-18 training step (bs 64, 32²)
 * 0.75 s against 1.08 s, MobileNetV2 0.45 s against 0.61 s. The built-in backend is the fallback
 * when Dawn has no adapter (e.g. a Mesa older than 23 on a CPU). `AUTO_ORDER` is the rule as
 * data; `AUTO_RULE` says it in words for the CLI's `--backend` help (one source for both).
 */
export const AUTO_ORDER: readonly Backend[] = ["dawn", "native"];
const NAMES: Record<Backend, string> = { native: "built-in", dawn: "Dawn" };
export const AUTO_RULE = AUTO_ORDER.map((b) => NAMES[b]).join(", then ");

/** Opens a device on the chosen backend (`auto`: see `AUTO_ORDER`); else says why none opened. */
export async function acquireGpu(choice: BackendChoice = "auto"): Promise<Gpu> {
  const order: readonly Backend[] = choice === "auto" ? AUTO_ORDER : [choice];
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
