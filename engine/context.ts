/**
 * The engine context: one device, its buffer pool, command stream and pipeline cache. One
 * context is current at a time (`initEngine` / `closeEngine`); tensors and ops use it.
 */
import { acquireGpu, type BackendChoice, type Gpu } from "./device.ts";
import { BufferPool } from "./buffer_pool.ts";
import { Stream } from "./stream.ts";
import { BindGroupCache } from "./bind_groups.ts";
import { type Overrides, packUniforms, PipelineCache, type UniformValues } from "./kernel.ts";
import { GpuError, LimitError } from "./errors.ts";
import { CANVAS_READ_MAX, CanvasReadback, canvasReadbackAvailable } from "./canvas_readback.ts";
import { defaultKernelChoices, type KernelChoices } from "./kernel_choices.ts";
import type { KernelSpec } from "../kernels/spec.ts";

export interface EngineOptions {
  backend?: BackendChoice;
  /** Dispatches recorded before a submit. */
  maxBatch?: number;
  /** Kernel variants to run instead of the adapter's defaults. */
  kernels?: Partial<KernelChoices>;
}

/** The last few distinct op labels of a batch, for error messages. */
function opsOf(labels: readonly string[]): string {
  return [...new Set(labels)].slice(-8).join(", ") || "(no op recorded)";
}

export class Engine {
  readonly pool: BufferPool;
  readonly stream: Stream;
  readonly pipelines: PipelineCache;
  readonly bindGroups: BindGroupCache;
  #staging = new Map<number, GPUBuffer[]>();
  /** A small buffer for bindings a kernel variant never reads (e.g. the input of `fill`). */
  readonly dummy: GPUBuffer;
  readonly #kernels: Readonly<KernelChoices>;
  #kernelStack: Readonly<KernelChoices>[] = [];
  /** `stream.queued` when all queued work was last known finished (a read or sync returned). */
  #finished = -1;
  /**
   * Small reads on the built-in backend, and a 4-byte buffer `sync()` reads through it: both
   * settle without the ~10 ms its map and queue promises add (engine/canvas_readback.ts).
   */
  #canvas: { reader: CanvasReadback; fence: GPUBuffer } | undefined;
  /** How many `sync()` calls waited for the queue (tests check a redundant one does not). */
  syncWaits = 0;

  constructor(readonly gpu: Gpu, opts: EngineOptions = {}) {
    this.#kernels = { ...defaultKernelChoices(gpu), ...opts.kernels };
    this.pool = new BufferPool(gpu.device);
    this.stream = new Stream(gpu.device, this.pool, opts.maxBatch ?? 128);
    this.pipelines = new PipelineCache(gpu.device);
    this.bindGroups = new BindGroupCache(gpu.device);
    // Bind groups of destroyed buffers must never be reused.
    this.pool.onTrim = () => this.bindGroups.clear();
    this.dummy = gpu.device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE });
    if (canvasReadbackAvailable(gpu.device)) {
      this.#canvas = {
        reader: new CanvasReadback(gpu.device),
        fence: gpu.device.createBuffer({ size: 4, usage: GPUBufferUsage.COPY_SRC }),
      };
    }
  }

  get device(): GPUDevice {
    return this.gpu.device;
  }

  /** The kernel variants the ops run on this engine. */
  get kernels(): Readonly<KernelChoices> {
    return this.#kernelStack.at(-1) ?? this.#kernels;
  }

  /**
   * Runs `fn` (awaited) with some kernel choices changed, then restores them. Calls must nest:
   * one that finishes while another, started inside it, still runs throws, and so does that
   * other one; the engine's own choices are back in force after both.
   */
  async withKernels<T>(choices: Partial<KernelChoices>, fn: () => T | Promise<T>): Promise<T> {
    const mine = { ...this.kernels, ...choices };
    this.#kernelStack.push(mine);
    const restore = () => {
      if (this.#kernelStack.at(-1) !== mine) {
        this.#kernelStack.length = 0;
        throw new Error(
          "Engine.withKernels: interleaved calls (each must finish before its parent)",
        );
      }
      this.#kernelStack.pop();
    };
    let result: T;
    try {
      result = await fn();
    } catch (e) {
      restore();
      throw e;
    }
    restore();
    return result;
  }

  /** Records one kernel dispatch in the stream. */
  dispatch(
    spec: KernelSpec,
    args: {
      buffers: Record<string, GPUBuffer | GPUBufferBinding>;
      uniforms?: UniformValues;
      overrides?: Overrides;
      workgroups: readonly [number, number?, number?];
      label?: string;
    },
  ): void {
    const ref = this.pipelines.reflected(spec);
    const pipeline = this.pipelines.pipeline(spec, args.overrides);
    const dynamicOffsets: number[] = [];
    const entries = spec.bindings.map((name, binding) => {
      if (binding === ref.uniformIndex) {
        const slot = this.stream.uniform(packUniforms(spec, ref, args.uniforms ?? {}));
        dynamicOffsets.push(slot.offset);
        return { binding, resource: slot.binding };
      }
      const b = args.buffers[name];
      if (!b) throw new Error(`kernel ${spec.name}: buffer '${name}' not given`);
      return { binding, resource: "buffer" in b ? b : { buffer: b } };
    });
    const [x, y = 1, z = 1] = args.workgroups;
    const max = this.gpu.limits.maxComputeWorkgroupsPerDimension ?? 65535;
    if (x > max || y > max || z > max) {
      throw new LimitError(
        `kernel ${spec.name}: dispatch [${x},${y},${z}] exceeds ${max} per dimension`,
      );
    }
    if (x === 0 || y === 0 || z === 0) return;
    const group = this.bindGroups.get(ref.layout, entries);
    this.stream.dispatch(pipeline, group, [x, y, z], args.label ?? spec.name, dynamicOffsets);
  }

  /** Reads `bytes` from a buffer after everything recorded so far has run. */
  async read(src: GPUBuffer, bytes: number, offset = 0): Promise<ArrayBuffer> {
    const size = Math.ceil(bytes / 4) * 4;
    const labels = [...this.stream.pendingLabels];
    const receive = this.#canvas && size > 0 && size <= CANVAS_READ_MAX
      ? this.#canvas.reader.record(this.stream.transferEncoder(), src, offset, size)
      : this.#stage(src, offset, size);
    this.stream.flush();
    this.gpu.collectErrors();
    const queued = this.stream.queued;
    let out: ArrayBuffer;
    try {
      out = await receive();
    } catch (e) {
      // A lost device rejects the map before its `lost` promise settles: wait for it (briefly,
      // the map may have failed otherwise) so the error says why, and name the ops either way.
      await Promise.race([this.device.lost, new Promise((r) => setTimeout(r, 100))]);
      this.check(labels);
      throw new GpuError(`GPU error in ops [${opsOf(labels)}]: ${(e as Error).message}`);
    }
    this.check(labels);
    // The queue runs in order: the read settling means everything queued before it is done.
    this.#finished = Math.max(this.#finished, queued);
    return out.byteLength === bytes ? out : out.slice(0, bytes);
  }

  /** Records the copy of `size` bytes into a pooled staging buffer; the function maps it. */
  #stage(src: GPUBuffer, offset: number, size: number): () => Promise<ArrayBuffer> {
    const list = this.#staging.get(size) ?? [];
    this.#staging.set(size, list);
    const staging = list.pop() ??
      this.device.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    this.stream.copy(src, offset, staging, 0, size);
    return async () => {
      await staging.mapAsync(GPUMapMode.READ);
      const out = staging.getMappedRange().slice(0);
      staging.unmap();
      list.push(staging);
      return out;
    };
  }

  /** Throws the pending device error, if any, naming the ops of the batch that raised it. */
  check(labels: readonly string[] = this.stream.pendingLabels): void {
    const err = this.gpu.takeError();
    if (err) throw new GpuError(`GPU error in ops [${opsOf(labels)}]: ${err}`);
  }

  /**
   * Waits until all submitted work has finished. Returns at once when nothing was queued since
   * a read or sync saw the queue finish (e.g. `sync()` right after `item()` in a training loop).
   * On the built-in backend it reads 4 bytes through a canvas: `onSubmittedWorkDone` there
   * settles ~10 ms after the work.
   */
  async sync(): Promise<void> {
    this.stream.flush();
    const queued = this.stream.queued;
    if (queued !== this.#finished) {
      this.syncWaits++;
      if (this.#canvas) {
        await this.read(this.#canvas.fence, 4);
        return;
      }
      await this.device.queue.onSubmittedWorkDone();
      this.#finished = Math.max(this.#finished, queued);
    }
    this.check();
  }

  destroy(): void {
    this.stream.flush();
    this.pool.trim();
    this.stream.destroy();
    for (const l of this.#staging.values()) for (const b of l) b.destroy();
    this.#canvas?.reader.destroy();
    this.#canvas?.fence.destroy();
    this.dummy.destroy();
    this.gpu.destroy();
  }
}

let current: Engine | undefined;

/** Opens an engine and makes it current (the current one, if any, stays open: see useEngine). */
export async function initEngine(opts: EngineOptions = {}): Promise<Engine> {
  const gpu = await acquireGpu(opts.backend ?? "auto");
  try {
    current = new Engine(gpu, opts);
  } catch (e) {
    gpu.destroy(); // e.g. a bad AKD_GEMM_TILES: release the device so the process can exit
    throw e;
  }
  return current;
}

/** Makes an already open engine current (tests switch between backends this way). */
export function useEngine(e: Engine): void {
  current = e;
}

/** The current engine, or undefined when none is open. */
export function currentEngine(): Engine | undefined {
  return current;
}

export function engine(): Engine {
  if (!current) throw new Error("no engine: call initEngine() first");
  return current;
}

/** Releases the device so the process can exit (Dawn keeps it alive otherwise). */
export function closeEngine(): void {
  current?.destroy();
  current = undefined;
}
