/**
 * Compiles kernel specs into pipelines (cached by kernel + specialisation), checks their
 * bindings against the reflected shader, packs uniform structs by member name.
 */
// The package's main entry is CommonJS in a "type: module" package; use its ESM build + types.
// @ts-types="npm:wgsl_reflect@1.6.0/types/index.d.ts"
import { WgslReflect } from "wgsl_reflect";
import type { KernelSpec } from "../kernels/spec.ts";

type Access = "uniform" | "read" | "read_write";

interface UniformMember {
  name: string;
  offset: number;
  scalar: "u32" | "i32" | "f32";
  count: number;
}

export interface Reflected {
  module: GPUShaderModule;
  layout: GPUBindGroupLayout;
  pipelineLayout: GPUPipelineLayout;
  access: Access[];
  uniformIndex: number;
  uniformSize: number;
  uniformMembers: UniformMember[];
  overrides: Set<string>;
}

const SCALARS = new Set(["u32", "i32", "f32"]);

function memberLayout(m: {
  name: string;
  offset: number;
  size: number;
  type: { name: string; getTypeName(): string; isArray: boolean };
  format?: { name: string; getTypeName?(): string } | null;
  count?: number;
}): UniformMember {
  const typeName = m.type.getTypeName();
  // Accepts scalars, vecN<T>, and array<vecN<T> | T, K> of 4-byte scalars.
  const m32 = typeName.match(/(u32|i32|f32)|vec[234]([uif])\b/);
  const scalar = m32?.[1] ?? (m32?.[2] ? `${m32[2]}32` : undefined);
  if (!scalar || !SCALARS.has(scalar)) {
    throw new Error(`uniform member ${m.name}: unsupported type ${typeName}`);
  }
  return {
    name: m.name,
    offset: m.offset,
    scalar: scalar as UniformMember["scalar"],
    count: m.size / 4,
  };
}

export function reflect(device: GPUDevice, spec: KernelSpec): Reflected {
  const r = new WgslReflect(spec.source);
  const entry = spec.entryPoint ?? "main";
  const fn = r.entry.compute.find((f) => f.name === entry);
  if (!fn) throw new Error(`kernel ${spec.name}: no @compute entry point '${entry}'`);
  const vars = [...r.uniforms, ...r.storage].filter((v) => v.group === 0);
  vars.sort((a, b) => a.binding - b.binding);
  const names = vars.map((v) => v.name);
  if (names.join(",") !== spec.bindings.join(",") || vars.some((v, i) => v.binding !== i)) {
    throw new Error(
      `kernel ${spec.name}: spec bindings [${spec.bindings}] do not match shader bindings ` +
        `[${vars.map((v) => `${v.binding}:${v.name}`)}]`,
    );
  }
  const access: Access[] = vars.map((v) =>
    r.uniforms.includes(v) ? "uniform" : v.access === "read" ? "read" : "read_write"
  );
  const uniformIndex = access.indexOf("uniform");
  let uniformMembers: UniformMember[] = [];
  let uniformSize = 0;
  if (uniformIndex >= 0) {
    const u = vars[uniformIndex];
    uniformMembers = (u.members ?? []).map((m) => memberLayout(m as never));
    uniformSize = u.size;
  }
  const layout = device.createBindGroupLayout({
    label: spec.name,
    entries: access.map((a, binding) => ({
      binding,
      visibility: GPUShaderStage.COMPUTE,
      buffer: {
        type: a === "uniform" ? "uniform" : a === "read" ? "read-only-storage" : "storage",
        // The uniform slot's offset in the stream's arena is given at dispatch, so one bind
        // group serves every slot (bind_groups.ts).
        hasDynamicOffset: a === "uniform",
      },
    })),
  });
  const module = device.createShaderModule({ label: spec.name, code: spec.source });
  return {
    module,
    layout,
    pipelineLayout: device.createPipelineLayout({ label: spec.name, bindGroupLayouts: [layout] }),
    access,
    uniformIndex,
    uniformSize,
    uniformMembers,
    overrides: new Set(r.overrides.map((o) => o.name)),
  };
}

export type UniformValues = Record<string, number | readonly number[]>;

/** Packs uniform values by member name; a missing or unknown name is an error. */
export function packUniforms(spec: KernelSpec, ref: Reflected, values: UniformValues): Uint8Array {
  const bytes = new ArrayBuffer(Math.max(16, Math.ceil(ref.uniformSize / 16) * 16));
  const view = new DataView(bytes);
  const known = new Set(ref.uniformMembers.map((m) => m.name));
  for (const k of Object.keys(values)) {
    if (!known.has(k)) throw new Error(`kernel ${spec.name}: unknown uniform '${k}'`);
  }
  for (const m of ref.uniformMembers) {
    const v = values[m.name];
    if (v === undefined) throw new Error(`kernel ${spec.name}: uniform '${m.name}' not given`);
    const arr = typeof v === "number" ? [v] : v;
    if (arr.length > m.count) {
      throw new Error(`kernel ${spec.name}: uniform '${m.name}' has ${m.count} slots`);
    }
    for (let i = 0; i < arr.length; i++) {
      const off = m.offset + 4 * i;
      if (m.scalar === "f32") view.setFloat32(off, arr[i], true);
      else if (m.scalar === "i32") view.setInt32(off, arr[i], true);
      else view.setUint32(off, arr[i] >>> 0, true);
    }
  }
  return new Uint8Array(bytes);
}

export type Overrides = Record<string, number>;

export class PipelineCache {
  #reflected = new Map<KernelSpec, Reflected>();
  #pipelines = new Map<string, GPUComputePipeline>();

  constructor(private device: GPUDevice) {}

  reflected(spec: KernelSpec): Reflected {
    let r = this.#reflected.get(spec);
    if (!r) {
      r = reflect(this.device, spec);
      this.#reflected.set(spec, r);
    }
    return r;
  }

  pipeline(spec: KernelSpec, overrides: Overrides = {}): GPUComputePipeline {
    const keys = Object.keys(overrides).sort();
    const key = `${spec.name}|${spec.entryPoint ?? "main"}|${
      keys.map((k) => `${k}=${overrides[k]}`)
    }`;
    let p = this.#pipelines.get(key);
    if (!p) {
      const r = this.reflected(spec);
      for (const k of keys) {
        if (!r.overrides.has(k)) throw new Error(`kernel ${spec.name}: unknown override '${k}'`);
      }
      p = this.device.createComputePipeline({
        label: key,
        layout: r.pipelineLayout,
        compute: { module: r.module, entryPoint: spec.entryPoint ?? "main", constants: overrides },
      });
      this.#pipelines.set(key, p);
    }
    return p;
  }

  get size(): number {
    return this.#pipelines.size;
  }
}
