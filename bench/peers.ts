/**
 * The WebGPU peers of `bench gemm` and `bench conv` (docs/cli.md, "Peers"): tfjs-webgpu
 * (`@tensorflow/tfjs-backend-webgpu`) and jax-js (`@jax-js/jax`, its webgpu device), each on a
 * device of its own from the same WebGPU entry as our engine (the built-in `navigator.gpu`, or
 * Dawn's), so on the same adapter. Imported by bench/ only.
 */
import type { Gpu } from "../engine/device.ts";

/** Host data the peers take (jax-js wants an ArrayBuffer, not a shared one). */
type F32 = Float32Array<ArrayBuffer>;

/** The product of one case, uploaded once: `run` does `reps` of it and reads the last back. */
export interface PeerCase {
  run(reps: number): Promise<Float32Array>;
  dispose(): void;
}

/** A convolution as `bench conv` runs it: NHWC input, [Cout, Cin/groups, k, k] weights. */
export interface ConvShape {
  batch: number;
  side: number;
  cin: number;
  cout: number;
  k: number;
  stride: number;
  padding: number;
  groups: number;
}

export interface Peer {
  name: "tfjs-webgpu" | "jax-js";
  /** The adapter its device came from (its description, as our records give ours). */
  adapter: string;
  /** C = A·B, A [m, k] and B [k, n] row-major, f32. */
  gemm(a: F32, b: F32, m: number, n: number, k: number): PeerCase;
  /** The convolution's NHWC output; undefined where the peer has no such op. */
  conv(x: F32, w: F32, s: ConvShape): PeerCase | undefined;
}

export interface Peers {
  peers: Peer[];
  /** Peers that could not run here, and why (the records' notes say it). */
  skipped: { name: string; why: string }[];
}

type Entry = { requestAdapter(o?: GPURequestAdapterOptions): Promise<GPUAdapter | null> };

function adapterName(adapter: GPUAdapter): string {
  return adapter.info.description || adapter.info.device;
}

/** Our engine's WebGPU entry, and the name of its adapter (our records' `adapter`). */
function entryOf(gpu: Gpu): { entry: Entry; ours: string } {
  return {
    entry: gpu.instance as Entry,
    ours: gpu.adapter.description || gpu.adapter.device,
  };
}

/** OHWI weights ([k, k, Cin/groups, Cout] for tfjs) from our OIHW ones. */
function hwio(w: F32, s: ConvShape): F32 {
  const ci = s.cin / s.groups, out = new Float32Array(w.length);
  for (let o = 0; o < s.cout; o++) {
    for (let i = 0; i < ci; i++) {
      for (let y = 0; y < s.k; y++) {
        for (let x = 0; x < s.k; x++) {
          out[((y * s.k + x) * ci + i) * s.cout + o] = w[((o * ci + i) * s.k + y) * s.k + x];
        }
      }
    }
  }
  return out;
}

let tfjs: { backend: string; peer: Peer } | undefined;

/** tfjs-webgpu with a WebGPUBackend on a device of its own from our entry. */
async function openTfjs(gpu: Gpu): Promise<Peer> {
  if (tfjs?.backend === gpu.backend) return tfjs.peer;
  const tf = await import("@tensorflow/tfjs-core");
  const { WebGPUBackend } = await import("@tensorflow/tfjs-backend-webgpu");
  const { entry, ours } = entryOf(gpu);
  const adapter = await entry.requestAdapter({ powerPreference: "high-performance" });
  if (!adapter || adapterName(adapter) !== ours) {
    throw new Error(`its adapter (${adapter ? adapterName(adapter) : "none"}) is not ours`);
  }
  const features: GPUFeatureName[] = adapter.features.has("timestamp-query")
    ? ["timestamp-query"]
    : [];
  const device = await adapter.requestDevice({
    requiredFeatures: features,
    requiredLimits: {
      maxBufferSize: adapter.limits.maxBufferSize,
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxComputeWorkgroupStorageSize: adapter.limits.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: adapter.limits.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupSizeX: adapter.limits.maxComputeWorkgroupSizeX,
      maxComputeWorkgroupsPerDimension: adapter.limits.maxComputeWorkgroupsPerDimension,
    },
  });
  // The package registers "webgpu" on navigator.gpu's default adapter: ours replaces it (the
  // kernels are registered under the name, so the name must stay).
  if (tf.findBackendFactory("webgpu")) tf.removeBackend("webgpu");
  tf.registerBackend("webgpu", () => new WebGPUBackend(device, adapter.info));
  if (!(await tf.setBackend("webgpu"))) throw new Error("tf.setBackend('webgpu') failed");
  const product = (make: () => import("@tensorflow/tfjs-core").Tensor): PeerCase["run"] => {
    return async (reps) => {
      for (let r = 0; r < reps - 1; r++) make().dispose();
      const c = make();
      try {
        return await c.data() as Float32Array;
      } finally {
        c.dispose();
      }
    };
  };
  const peer: Peer = {
    name: "tfjs-webgpu",
    adapter: adapterName(adapter),
    gemm(aData, bData, m, n, k) {
      const a = tf.tensor2d(aData, [m, k]), b = tf.tensor2d(bData, [k, n]);
      return {
        run: product(() => tf.matMul(a, b)),
        dispose: () => tf.dispose([a, b]),
      };
    },
    conv(xData, wData, s) {
      const depthwise = s.groups === s.cin && s.cout === s.cin;
      if (s.groups !== 1 && !depthwise) return undefined;
      const x = tf.tensor4d(xData, [s.batch, s.side, s.side, s.cin]);
      // Depthwise filters are [k, k, C, multiplier 1]: the same numbers as HWIO with I = 1.
      const w = depthwise
        ? tf.tensor4d(hwio(wData, s), [s.k, s.k, s.cin, 1])
        : tf.tensor4d(hwio(wData, s), [s.k, s.k, s.cin, s.cout]);
      const pad = s.padding;
      return {
        run: product(() =>
          depthwise
            ? tf.depthwiseConv2d(x, w as import("@tensorflow/tfjs-core").Tensor4D, s.stride, pad)
            : tf.conv2d(x, w as import("@tensorflow/tfjs-core").Tensor4D, s.stride, pad)
        ),
        dispose: () => tf.dispose([x, w]),
      };
    },
  };
  tfjs = { backend: gpu.backend, peer };
  return peer;
}

let jax: { backend: string; peer: Peer } | undefined;

/**
 * jax-js's webgpu device. jax-js asks `navigator.gpu` for its adapter and device (there is no
 * way to hand it one), once per process: on Dawn, `navigator.gpu` is Dawn's entry while it
 * initialises; in a process that already initialised it on the other backend it cannot run.
 */
async function openJax(gpu: Gpu): Promise<Peer> {
  if (jax) {
    if (jax.backend === gpu.backend) return jax.peer;
    throw new Error(
      `jax-js initialises its webgpu device once per process, here on the ${jax.backend} backend`,
    );
  }
  const lib = await import("@jax-js/jax");
  const { entry, ours } = entryOf(gpu);
  const nav = navigator as unknown as { gpu?: Entry };
  const shim = nav.gpu !== entry;
  if (shim) Object.defineProperty(nav, "gpu", { value: entry, configurable: true });
  try {
    if (!(await lib.init("webgpu")).includes("webgpu")) throw new Error("no webgpu device");
  } finally {
    if (shim) delete nav.gpu;
  }
  const device = lib.getWebGPUDevice();
  const adapter = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  const theirs = adapter ? adapter.description || adapter.device : ours;
  if (theirs !== ours) throw new Error(`its adapter (${theirs}) is not ours`);
  const np = lib.numpy;
  const opts = { device: "webgpu" as const };
  // jax-js is lazy: a product runs once something waits for it. All `reps` are dispatched, then
  // waited for together (one sync, as ours), the last read back (data() disposes it).
  const product = (make: () => InstanceType<typeof lib.Array>): PeerCase["run"] => {
    return async (reps) => {
      const rest = Array.from({ length: reps - 1 }, make);
      const last = make();
      try {
        const [, out] = await Promise.all([lib.blockUntilReady(rest), last.data()]);
        return out as Float32Array;
      } finally {
        rest.forEach((c) => c.dispose());
      }
    };
  };
  const peer: Peer = {
    name: "jax-js",
    adapter: theirs,
    gemm(aData, bData, m, n, k) {
      const a = np.array(aData, { shape: [m, k], ...opts });
      const b = np.array(bData, { shape: [k, n], ...opts });
      return {
        run: product(() => np.matmul(a.ref, b.ref)),
        dispose: () => [a, b].forEach((t) => t.dispose()),
      };
    },
    conv(xData, wData, s) {
      // NHWC in, as ours; jax-js convolves NCHW with OIHW weights (ours), so transpose around it.
      const x = np.array(xData, { shape: [s.batch, s.side, s.side, s.cin], ...opts });
      const w = np.array(wData, { shape: [s.cout, s.cin / s.groups, s.k, s.k], ...opts });
      const p: [number, number] = [s.padding, s.padding];
      return {
        run: product(() =>
          np.transpose(
            lib.lax.convGeneralDilated(
              np.transpose(x.ref, [0, 3, 1, 2]),
              w.ref,
              [s.stride, s.stride],
              [p, p],
              { featureGroupCount: s.groups },
            ),
            [0, 2, 3, 1],
          )
        ),
        dispose: () => [x, w].forEach((t) => t.dispose()),
      };
    },
  };
  jax = { backend: gpu.backend, peer };
  return peer;
}

/** The peers that run on our engine's backend and adapter here, and why any others do not. */
export async function openPeers(gpu: Gpu): Promise<Peers> {
  const out: Peers = { peers: [], skipped: [] };
  for (const [name, open] of [["tfjs-webgpu", openTfjs], ["jax-js", openJax]] as const) {
    try {
      out.peers.push(await open(gpu));
    } catch (e) {
      out.skipped.push({ name, why: (e as Error).message });
    }
  }
  return out;
}
