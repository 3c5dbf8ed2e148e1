/**
 * `bench roofline`: the adapter's ALU ceiling and the read bandwidth of each load shape
 * (bench/roofline_probes.ts), timed on the GPU's own clock (timestamp queries) where the device
 * has them, best of >= 5, each probe's every output checked against its float64 reference. The
 * reference records are the host CPU doing the nearest work (PyTorch's sum over as many bytes,
 * and its 1024³ matmul for the ALU; the TS loops without PyTorch). The roofline is stored
 * (bench/ceiling.ts) for the `ceiling` notes of the other benchmarks.
 */
import { engine } from "../engine/context.ts";
import type { Gpu } from "../engine/device.ts";
import { mesaVersion } from "../engine/mesa.ts";
import { ceilingOf, rooflineKey, storedRoofline, storeRoofline } from "./ceiling.ts";
import { type BenchOptions, type BenchRecord, record, TorchWorker } from "./harness.ts";
import {
  type Probe,
  probeData,
  PROBES,
  type ProbeSize,
  STREAMING,
  TEXTURE_WIDTH,
  WG,
} from "./roofline_probes.ts";

export interface ProbeRun {
  /** Per-dispatch seconds of each timed sample. */
  samples: number[];
  timer: "timestamp-query" | "wall-clock";
  /** What the dispatch wrote: every invocation's sum (then the subgroup size, for that probe). */
  out: Float32Array;
}

/** Catches the validation error of a GPU object's creation and throws it, naming the probe. */
async function validated<T>(device: GPUDevice, what: string, make: () => T): Promise<T> {
  device.pushErrorScope("validation");
  const made = make();
  const error = await device.popErrorScope();
  if (error) throw new Error(`roofline probe ${what}: ${error.message}`);
  return made;
}

export interface ProbeInput {
  resource: GPUBindingResource;
  /** Destroyed by whoever made the input. */
  owner: GPUBuffer | GPUTexture;
}

/** Binding 1 of `probe`, filled with `data` (a storage input serves every storage probe). */
export function probeInput(
  device: GPUDevice,
  probe: Probe,
  data: Float32Array<ArrayBuffer>,
): ProbeInput {
  if (probe.input === "texture") {
    const rows = Math.ceil(data.length / 4 / TEXTURE_WIDTH);
    const texture = device.createTexture({
      size: [TEXTURE_WIDTH, rows],
      format: "rgba32float",
      usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST,
    });
    device.queue.writeTexture({ texture }, data, { bytesPerRow: TEXTURE_WIDTH * 16 }, [
      TEXTURE_WIDTH,
      rows,
    ]);
    return { resource: texture.createView(), owner: texture };
  }
  const usage = probe.input === "uniform" ? GPUBufferUsage.UNIFORM : GPUBufferUsage.STORAGE;
  const buffer = device.createBuffer({
    size: Math.max(16, data.byteLength),
    usage: usage | GPUBufferUsage.COPY_DST,
  });
  device.queue.writeBuffer(buffer, 0, data);
  return { resource: { buffer }, owner: buffer };
}

export interface OpenProbe {
  /** `samples` timed dispatches (after one untimed one); the output of the last. */
  measure(samples: number): Promise<ProbeRun>;
  destroy(): void;
}

/**
 * Compiles `probe` at `size` over `input` and runs it once. With timestamp queries `measure`
 * puts all samples in one submission; Dawn's busy poll while it waits no longer takes a core from
 * llvmpipe's workers (the device layer paces it on software adapters: `paceDawnPolling`).
 */
export async function openProbe(
  gpu: Gpu,
  probe: Probe,
  size: ProbeSize,
  input: ProbeInput,
): Promise<OpenProbe> {
  const { device } = gpu;
  const threads = size.workgroups * WG;
  const owned: { destroy(): void }[] = [];
  const own = <T extends { destroy(): void }>(x: T) => (owned.push(x), x);
  const destroy = () => owned.splice(0).forEach((x) => x.destroy());
  try {
    const pipeline = await validated(device, probe.name, () =>
      device.createComputePipeline({
        layout: "auto",
        compute: {
          module: device.createShaderModule({ label: probe.name, code: probe.source }),
          entryPoint: "main",
          constants: { ITERS: size.iters, THREADS: threads },
        },
      }));
    const outBytes = 4 * (threads + 1);
    const out = own(device.createBuffer({
      size: outBytes,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
    }));
    const readOut = own(device.createBuffer({
      size: outBytes,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    }));
    const bindGroup = await validated(device, probe.name, () =>
      device.createBindGroup({
        layout: pipeline.getBindGroupLayout(0),
        entries: [{ binding: 0, resource: { buffer: out } }, {
          binding: 1,
          resource: input.resource,
        }],
      }));
    const dispatch = (
      encoder: GPUCommandEncoder,
      timestampWrites?: GPUComputePassTimestampWrites,
    ) => {
      const pass = encoder.beginComputePass(timestampWrites ? { timestampWrites } : {});
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(size.workgroups);
      pass.end();
    };
    const submit = (fill: (e: GPUCommandEncoder) => void) => {
      const encoder = device.createCommandEncoder();
      fill(encoder);
      device.queue.submit([encoder.finish()]);
      gpu.collectErrors(); // the built-in backend's are in open error scopes (engine/device.ts)
    };
    /** Seconds of one untimed dispatch, on the host's clock. */
    const once = async () => {
      const t0 = performance.now();
      submit((e) => dispatch(e));
      await device.queue.onSubmittedWorkDone();
      return (performance.now() - t0) / 1000;
    };
    const readBack = (): Float32Array => {
      const values = new Float32Array(readOut.getMappedRange().slice(0));
      readOut.unmap();
      const error = gpu.takeError();
      if (error) throw new Error(`roofline probe ${probe.name}: ${error}`);
      return values;
    };

    const timestamped = async (samples: number): Promise<ProbeRun> => {
      const querySet = device.createQuerySet({ type: "timestamp", count: 2 * samples });
      const resolved = device.createBuffer({
        size: 16 * samples,
        usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
      });
      const readTimes = device.createBuffer({
        size: 16 * samples,
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      });
      try {
        const t0 = performance.now();
        submit((e) => {
          // An untimed lead dispatch: under Dawn the first of a batch was often the slowest.
          dispatch(e);
          for (let s = 0; s < samples; s++) {
            dispatch(e, {
              querySet,
              beginningOfPassWriteIndex: 2 * s,
              endOfPassWriteIndex: 2 * s + 1,
            });
          }
          e.resolveQuerySet(querySet, 0, 2 * samples, resolved, 0);
          e.copyBufferToBuffer(resolved, 0, readTimes, 0, 16 * samples);
          e.copyBufferToBuffer(out, 0, readOut, 0, outBytes);
        });
        await Promise.all([
          readTimes.mapAsync(GPUMapMode.READ),
          readOut.mapAsync(GPUMapMode.READ),
        ]);
        const wall = (performance.now() - t0) / 1000;
        const stamps = new BigInt64Array(readTimes.getMappedRange());
        const times = Array.from(
          { length: samples },
          (_, s) => Number(stamps[2 * s + 1] - stamps[2 * s]) / 1e9,
        );
        readTimes.unmap();
        // The GPU's clock must agree with the host's: each sample positive, all within the wall.
        const total = times.reduce((a, b) => a + b, 0);
        if (times.some((t) => !(t > 0)) || total > wall * 1.05) {
          const shown = times.map((t) => t.toExponential(2)).join(", ");
          throw new Error(
            `roofline probe ${probe.name}: implausible timestamps (${shown} s within ` +
              `${wall.toFixed(4)} s of wall time)`,
          );
        }
        return { samples: times, timer: "timestamp-query", out: readBack() };
      } finally {
        querySet.destroy();
        resolved.destroy();
        readTimes.destroy();
      }
    };

    const wallClock = async (samples: number): Promise<ProbeRun> => {
      await once();
      const times: number[] = [];
      for (let s = 0; s < samples; s++) times.push(await once());
      submit((e) => e.copyBufferToBuffer(out, 0, readOut, 0, outBytes));
      await readOut.mapAsync(GPUMapMode.READ);
      return { samples: times, timer: "wall-clock", out: readBack() };
    };

    await once(); // compiles
    const measure = gpu.features.has("timestamp-query") ? timestamped : wallClock;
    return { measure, destroy };
  } catch (e) {
    destroy();
    throw e;
  }
}

/** Opens, measures `samples` dispatches, and destroys one probe with its own input. */
export async function runProbe(
  gpu: Gpu,
  probe: Probe,
  size: ProbeSize,
  data: Float32Array<ArrayBuffer>,
  samples: number,
): Promise<ProbeRun> {
  const input = probeInput(gpu.device, probe, data);
  try {
    const open = await openProbe(gpu, probe, size, input);
    try {
      return await open.measure(samples);
    } finally {
      open.destroy();
    }
  } finally {
    input.owner.destroy();
  }
}

/** Every invocation's expected sum; the subgroup probe's needs the size its run reported. */
export function probeReference(
  probe: Probe,
  size: ProbeSize,
  data: Float32Array,
  out: Float32Array,
): Float64Array {
  return probe.reference(data, size, out[size.workgroups * WG]);
}

/**
 * Checks every invocation's sum against the float64 reference (exact: the data are small
 * integers); throws naming the first wrong one.
 */
export function checkProbe(probe: Probe, size: ProbeSize, want: Float64Array, out: Float32Array) {
  for (let g = 0; g < size.workgroups * WG; g++) {
    if (out[g] !== want[g]) {
      throw new Error(
        `roofline probe ${probe.name} (${size.workgroups} workgroups, ${size.iters} iterations): ` +
          `invocation ${g} summed ${out[g]}, the float64 reference ${want[g]}`,
      );
    }
  }
}

/** Per-adapter sizes: llvmpipe runs 2 workgroups per core at a time; a GPU needs thousands. */
function plan(gpu: Gpu, quick: boolean) {
  const hardware = !gpu.adapter.isFallback;
  const workgroups = hardware ? 4096 : 256;
  const bytes = (hardware ? 256 : 64) * 2 ** 20 / (quick ? 4 : 1);
  const flops = (hardware ? 2 ** 36 : 2 ** 30) / (quick ? 4 : 1);
  // Best of rounds × samplesPerRound: 10 (quick: 6).
  return { workgroups, bytes, flops, rounds: quick ? 3 : 5, samplesPerRound: 2 };
}

const TORCH_HOST = `
x = torch.arange(INPUT["floats"], dtype=torch.float32) % 16 - 8
a = torch.rand(1024, 1024)
def mm():
    torch.mm(a, a)
STEPS["sum"] = lambda: float(x.sum())
STEPS["mm"] = mm
for fn in STEPS["sum"], STEPS["mm"]:
    fn()
`;

/** The host CPU's sum over `floats` floats and 2·`flops`-FLOP work, sampled between rounds. */
interface Host {
  name: string;
  flops: number;
  sumSeconds: number[];
  flopSeconds: number[];
  /** Times one more sample of each. */
  sample(): Promise<void>;
}

/** PyTorch's sum and 1024² matmul; without torch, TS loops on one thread. */
async function hostReference(torch: TorchWorker | undefined, floats: number): Promise<Host> {
  const sumSeconds: number[] = [], flopSeconds: number[] = [];
  if (torch) {
    await torch.exec(TORCH_HOST, { floats });
    return {
      name: "torch-cpu",
      flops: 2 * 1024 ** 3,
      sumSeconds,
      flopSeconds,
      async sample() {
        sumSeconds.push((await torch.time("sum")).seconds);
        flopSeconds.push((await torch.time("mm")).seconds);
      },
    };
  }
  const f32 = PROBES.find((p) => p.name === "storage-f32")!;
  const x = probeData(f32, { workgroups: 1, iters: floats / WG });
  // A multiplier of 1 the JIT cannot fold away (x * 1 would become x): the data are below 8.
  const m = x[0] > 8 ? 2 : 1;
  const chains = new Float64Array(8);
  const iters = 2 ** 22;
  return {
    name: "ts-host (1 thread)",
    flops: 16 * iters,
    sumSeconds,
    flopSeconds,
    sample() {
      let t0 = performance.now(), acc = 0;
      for (let i = 0; i < x.length; i++) acc += x[i];
      sumSeconds.push((performance.now() - t0) / 1000);
      t0 = performance.now();
      for (let i = 0; i < iters; i++) for (let c = 0; c < 8; c++) chains[c] = chains[c] * m + acc;
      flopSeconds.push((performance.now() - t0) / 1000);
      return Promise.resolve();
    },
  };
}

interface Opened {
  probe: Probe;
  size: ProbeSize;
  data: Float32Array;
  open: OpenProbe;
  samples: number[];
  timer?: ProbeRun["timer"];
  want?: Float64Array;
  subgroupSize?: number;
}

/**
 * Opens every probe the device can run (inputs shared where equal), then measures them in
 * interleaved rounds, so that a burst of load from elsewhere hits one round, not one probe; the
 * host reference takes its samples between the rounds.
 */
async function measureAll(gpu: Gpu, p: ReturnType<typeof plan>, host: Host): Promise<Opened[]> {
  const inputs = new Map<string, ProbeInput & { data: Float32Array<ArrayBuffer> }>();
  const opened: Opened[] = [];
  try {
    for (const probe of PROBES) {
      if (probe.needs && !gpu.features.has(probe.needs)) continue;
      const size = {
        workgroups: p.workgroups,
        iters: probe.itersFor(probe.unit === "GFLOP/s" ? p.flops : p.bytes, p.workgroups),
      };
      const key = probe.name === "alu" ? "alu" : `${probe.input} ${probe.dataFloats(size)}`;
      let input = inputs.get(key);
      if (!input) {
        const data = probeData(probe, size);
        input = { ...probeInput(gpu.device, probe, data), data };
        inputs.set(key, input);
      }
      const open = await openProbe(gpu, probe, size, input);
      opened.push({ probe, size, data: input.data, open, samples: [] });
    }
    for (let round = 0; round < p.rounds; round++) {
      for (const o of opened) {
        const run = await o.open.measure(p.samplesPerRound);
        o.want ??= probeReference(o.probe, o.size, o.data, run.out);
        checkProbe(o.probe, o.size, o.want, run.out);
        o.samples.push(...run.samples);
        o.timer = run.timer;
        o.subgroupSize = run.out[o.size.workgroups * WG];
      }
      for (let s = 0; s < p.samplesPerRound; s++) await host.sample();
    }
    return opened;
  } finally {
    for (const o of opened) o.open.destroy();
    for (const input of inputs.values()) input.owner.destroy();
  }
}

export async function benchRoofline(opts: BenchOptions): Promise<BenchRecord[]> {
  const e = engine();
  await e.sync();
  const gpu = e.gpu;
  const mesa = await mesaVersion(gpu.adapter);
  const p = plan(gpu, opts.quick ?? false);
  await using torch = await TorchWorker.start();
  const host = await hostReference(torch, p.bytes / 4);
  const opened = await measureAll(gpu, p, host);
  const hostSum = Math.min(...host.sumSeconds), hostFlop = Math.min(...host.flopSeconds);
  const records: BenchRecord[] = [];
  const shapes: Record<string, number> = {};
  let alu = NaN;
  for (const o of opened) {
    const { probe, size } = o;
    const sorted = [...o.samples].sort((a, b) => a - b);
    const seconds = sorted[0];
    const work = probe.work(size);
    const throughput = work / seconds / 1e9;
    if (probe.name === "alu") alu = throughput;
    else shapes[probe.name] = throughput;
    const reference = probe.name === "alu"
      ? { name: host.name, seconds: hostFlop * work / host.flops }
      : { name: host.name, seconds: hostSum * work / p.bytes };
    records.push(record(
      "roofline",
      probe.name,
      { seconds, throughput, unit: probe.unit },
      { ...reference, throughput: work / reference.seconds / 1e9 },
      {
        shape: probe.what,
        mesa: mesa?.version ?? null,
        mesaSource: mesa?.source ?? null,
        timer: o.timer,
        samples: sorted.length,
        rounds: p.rounds,
        medianSeconds: sorted[Math.floor(sorted.length / 2)],
        workgroups: size.workgroups,
        invocationsPerWorkgroup: WG,
        iterations: size.iters,
        [probe.unit === "GB/s" ? "laneBytes" : "flops"]: work,
        ...(probe.needs === "subgroups" ? { subgroupSize: o.subgroupSize } : {}),
        checked: "every invocation's sum equals the float64 reference, every round",
        timing: `best of ${sorted.length}, the reference's ${host.sumSeconds.length} samples ` +
          "taken between the rounds",
        reference: probe.name === "alu"
          ? "host 1024x1024 matmul (torch) or 8 scalar multiply-add chains (TS), scaled to this work"
          : "host sum over as many bytes, scaled to this work",
      },
    ));
  }
  const best = STREAMING.filter((s) => s in shapes).reduce((a, b) =>
    shapes[a] >= shapes[b] ? a : b
  );
  await storeRoofline({
    backend: gpu.backend,
    adapter: records[0].adapter,
    mesa: mesa?.version ?? null,
    measuredAt: new Date().toISOString(),
    quick: opts.quick ?? false,
    alu,
    memory: { shape: best, gbps: shapes[best] },
    shapes,
  });
  return records;
}

/**
 * Adds the `ceiling` note to each record that counts its work, from the roofline of this
 * backend, adapter and Mesa: measured earlier in this run, else cached, else measured now.
 */
export async function addCeilings(records: BenchRecord[], opts: BenchOptions): Promise<void> {
  const counted = records.filter((r) => r.work);
  if (counted.length === 0) return;
  const gpu = engine().gpu;
  const mesa = (await mesaVersion(gpu.adapter))?.version ?? null;
  const key = rooflineKey(gpu.backend, counted[0].adapter, mesa);
  if (!(await storedRoofline(key))) await benchRoofline(opts);
  const stored = await storedRoofline(key);
  if (!stored) throw new Error(`no roofline stored for ${key} after measuring it`);
  for (const r of counted) {
    r.notes = {
      ...r.notes,
      ceiling: ceilingOf(r.work!, r.ours.seconds, stored.roofline, stored.source),
    };
  }
}
